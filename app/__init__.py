"""The Qt desktop (PySide6 + pyqtgraph). It imports core; core never imports app.

The desktop arrives with its own issue; until then ``./run`` runs the demo simulation headless.
"""
