"""Cases: feedback, human handoff, SLA deadlines on a business-hours calendar."""
