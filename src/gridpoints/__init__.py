"""Gridpoints: volunteer points and evaluation for community Party-building grids."""

import os

# Piccolo finds the platform's tables and its engine through this module, in the platform's
# commands (`db.engine.use_engine`) and in Piccolo's own command line alike.
os.environ.setdefault("PICCOLO_CONF", "gridpoints.piccolo_conf")
