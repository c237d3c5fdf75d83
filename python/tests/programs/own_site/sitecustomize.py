# A user's own sitecustomize, which hangar's hook shadows and must run exactly once per
# process: it appends this process's pid to the file named by OWN_SITE_LOG, and fails on
# purpose when OWN_SITE_FAIL is set.
import os

MARK = "own_site"
if os.environ.get("OWN_SITE_LOG"):
    with open(os.environ["OWN_SITE_LOG"], "a") as log:
        log.write("%d\n" % os.getpid())
if os.environ.get("OWN_SITE_FAIL"):
    raise ZeroDivisionError("own_site fails on purpose")
