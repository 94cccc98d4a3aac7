"""On-call alerts: urgent cases and SLA breaches sent to the team's group chats."""
