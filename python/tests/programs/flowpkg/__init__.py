# A package whose flow module is run with `python3 -m flowpkg.flow`.
