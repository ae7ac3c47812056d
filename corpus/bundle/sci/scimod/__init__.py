"""Package form of the test app, for `-m scimod`."""
