"""Framework adapters: a scope per inbound request (FastAPI/Starlette, Flask).

Import the one you use: ``noukai_sdk.adapters.fastapi`` or ``noukai_sdk.adapters.flask``.
"""
