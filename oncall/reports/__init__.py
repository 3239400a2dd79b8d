"""Team reports: who carried the pager (load) and how fast incidents were answered (response)."""
