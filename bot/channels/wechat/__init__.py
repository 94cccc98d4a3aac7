"""WeChat Official Account: every rule of the platform lives in this package.

- ``channel``: name, capabilities, limits, the channel object (parse, render)
- ``push``: the signed (and encrypted) XML push: signature, decryption, → InboundMessage
- ``replay``: a signed query is good for one message while its timestamp is fresh
- ``reply``: the passive reply (what fits the HTTP answer) and its XML
- ``windows``: the 48-hour / 1-minute customer-service windows and their quotas
- ``session``: the shared access-token storage
- ``sender``: customer-service and template messages through the API
"""

NAME = "wechat"
