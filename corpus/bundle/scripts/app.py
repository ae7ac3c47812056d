"""Uses the distribution whose scripts the bundle must carry."""
import shenzi_scripts

print("app", shenzi_scripts.VALUE, shenzi_scripts.where())
