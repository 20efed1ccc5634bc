"""Delivery: the outbox every scheduled message goes through, and its dispatcher.

`port` is the domain's view of Discord, `outbox` the table and planning, `dispatcher` the
claim/send/recover/retry rules, `alarm` the timer that wakes the dispatcher.
"""
