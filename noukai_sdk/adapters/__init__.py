"""Framework adapters: capture/replay scopes per inbound request, and keyless flow relays.

Import the one you use: ``noukai_sdk.adapters.fastapi`` (``NoukaiTraceMiddleware``),
``noukai_sdk.adapters.flask`` (``init_noukai_trace``) or ``noukai_sdk.adapters.relay``
(``mount_flow_relay``, ``flow_relay_blueprint``). None of them is imported by ``import noukai_sdk``.
"""
