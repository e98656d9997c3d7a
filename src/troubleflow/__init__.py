"""troubleflow: customer problem management (eTOM 1.3.7) behind the TM Forum Trouble Ticket API (TMF621)."""

__version__ = "0.1.0"
