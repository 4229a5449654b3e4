"""The only layer that holds a store and combines stages: what the API and the command
line call (issue 11).  Each module is one service: `claims` imports warranty claims."""
