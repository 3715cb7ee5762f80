"""The simulated system: a generic actor engine, pure rules, and the actors built on them.

- `actors.runtime`: the engine (mailboxes, supervision, WebSocket links, network
  conditions and faults, seeded determinism, logs and the trace). Nothing here
  knows about sessions or agents.
- `actors.rules`: every decision as a pure function or sans-I/O state machine,
  the two servers' stores included; importable without Trio.
- `actors.servers`: the session server and the task server.
- `actors.hosts`: orchestrators and child agents, and the shares they open.
- `actors.viewers`: viewers, their session views and the pill bar they feed.
- `actors.links`: the client side of the task server's wire.
- `actors.world`: wires one simulated system together.

This package imports nothing itself, so `import actors.rules` stays free of Trio.
"""
