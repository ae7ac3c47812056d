import json
import sys

import numpy as np
from lxml import etree

print(json.dumps({"sum": int(np.arange(5).sum()), "tag": etree.fromstring(b"<a/>").tag, "argv": sys.argv[1:]}))
