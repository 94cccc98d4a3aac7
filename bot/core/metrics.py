"""Prometheus metrics: what operators watch (traffic, understanding, delivery, timed jobs)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter("kefu_messages_in_total", "Inbound customer messages", ["channel"])
DUPLICATES = Counter("kefu_duplicate_deliveries_total",
                     "Platform redeliveries recognised and answered from storage", ["channel"])
INTENTS = Counter("kefu_intents_total", "Understood intents", ["intent"])
TURN_SECONDS = Histogram("kefu_turn_seconds", "Time to handle one inbound message",
                         ["channel"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                               2.5, 4.5, 10))
OUTBOX_SENT = Counter("kefu_outbox_sent_total", "Messages the platforms accepted",
                      ["channel", "via"])
OUTBOX_FAILED = Counter("kefu_outbox_failed_total", "Messages given up on", ["channel"])
OUTBOX_RETRIED = Counter("kefu_outbox_retried_total", "Sends put back for a retry",
                         ["channel", "reason"])
OUTBOX_PENDING = Gauge("kefu_outbox_pending", "Messages waiting for delivery", ["channel"])
JOB_RUNS = Counter("kefu_job_runs_total", "Timed job runs by outcome (ok, failed, skipped)",
                   ["job", "outcome"])
JOB_LAST_SUCCESS = Gauge("kefu_job_last_success_timestamp_seconds",
                         "When each timed job last succeeded (Unix time)", ["job"])
SCHEDULER_LEADER = Gauge("kefu_scheduler_leader",
                         "1 while this process runs the timed jobs, else 0")
SLA_WARNINGS = Counter("kefu_sla_warnings_total", "SLA warnings sent to agents")
SLA_BREACHES = Counter("kefu_sla_breaches_total", "SLA deadlines passed and escalated")
OUTBOX_GAVE_UP = Counter("kefu_outbox_gave_up_total",
                         "Messages given up on, by why (retries_exhausted, window, "
                         "undeliverable, permanent)", ["channel", "reason"])
OUTBOX_OLDEST_PENDING = Gauge("kefu_outbox_oldest_pending_seconds",
                              "Age of the oldest message waiting for delivery", ["channel"])
SPOOL_PENDING = Gauge("kefu_spool_pending", "Inbound pushes waiting in the spool for the "
                      "database")
SPOOL_SPOOLED = Counter("kefu_spool_spooled_total", "Inbound pushes kept in the spool because "
                        "the database could not take them in time", ["channel"])
SPOOL_REPLAYED = Counter("kefu_spool_replayed_total", "Spooled pushes replayed into the "
                         "database", ["channel"])
