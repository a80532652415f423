"""What runs outside the services: the `hugginggpt` command, the local launcher and the gateway's client library.

It sits above the services and may use them; no module under hugginggpt/, services/, gateway/ or edge/ imports it.
"""
