#!/usr/bin/python3
"""The fanout and rooms shapes against Django Channels (Daphne +
channels-redis), the stack Parley replaces. Same JSON as parley-loadgen. Run
with Debian's /usr/bin/python3 (python3-websockets).

  fanout: --members WebSockets in the group "room", one sender keeping
          --window (128) texts in flight (each acknowledged "ok" after
          group_send).
  rooms:  --rooms pairs; each user joins its own inbox group "r<k>_<side>"
          and sends to its partner's with --window (8) in flight: a group
          per direction, so every message is delivered once, as in a Parley
          direct room. Channels answers a send once group_send has queued
          it in Redis, long before the partner gets it (no backpressure), so
          here a window slot frees when the partner receives the message;
          with the acknowledgement alone the senders overrun the delivery
          path and the backlog, not the server, is measured.

  channels_driver.py --server 127.0.0.1:8000 [--scenario fanout|rooms]
      [--members 100] [--rooms 50] [--size 64] [--duration 5] [--window N]
      [--server-pid PID[,PID...]] [--json]

--server-pid takes several pids (Daphne and its Redis): cpu_pct is their sum.
"""
import argparse
import asyncio
import json
import os
import sys
import time

import websockets


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_bytes(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--scenario", default="fanout", choices=["fanout", "rooms"])
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--rooms", type=int, default=50)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--window", type=int, default=0)
    ap.add_argument("--server-pid", default="")
    ap.add_argument("--json", action="store_true")
    o = ap.parse_args()
    window = o.window or (128 if o.scenario == "fanout" else 8)
    pids = [int(p) for p in o.server_pid.split(",") if p]
    base = f"ws://{o.server}/chat"
    lat = []
    state = {"delivered": 0, "sent": 0, "errors": 0, "t0": None, "stop": False}

    # (inbox, target) per client; "none": does not receive / send.
    if o.scenario == "fanout":
        ends = [("room", "none")] * o.members + [("none", "room")]
    else:
        ends = []
        for k in range(o.rooms):
            ends += [(f"r{k}_0", f"r{k}_1"), (f"r{k}_1", f"r{k}_0")]

    class Client:
        def __init__(self, ws, sends):
            self.ws, self.sends, self.inflight = ws, sends, 0
            self.partner = None  # rooms: whose window a delivery here frees
            self.acked = asyncio.Event()

    async def reader(c):
        async for text in c.ws:
            if state["stop"]:
                return
            if text == "ok":
                if c.partner is None:
                    c.inflight -= 1
                if state["t0"] is not None:
                    state["sent"] += 1
                c.acked.set()
                continue
            stamp = int(text.split(" ", 1)[0])
            if c.partner is not None:
                c.partner.inflight -= 1
                c.partner.acked.set()
            t0 = state["t0"]
            if t0 is None or stamp < t0:
                continue
            state["delivered"] += 1
            lat.append(time.monotonic_ns() - stamp)

    async def sender(c, end):
        while time.monotonic_ns() < end:
            while c.inflight < window:
                text = (str(time.monotonic_ns()) + " ").ljust(max(o.size, 24), "x")
                c.inflight += 1
                await c.ws.send(text)
            c.acked.clear()
            try:
                await asyncio.wait_for(c.acked.wait(), 0.5)
            except asyncio.TimeoutError:
                pass

    clients = []
    for inbox, target in ends:
        # Daphne is slow under load: no 10 s opening timeout, no keepalive
        # pings that could time out and end the run.
        ws = await websockets.connect(f"{base}/{inbox}/{target}/", max_queue=None,
                                      open_timeout=None, ping_interval=None)
        clients.append(Client(ws, target != "none"))
    if o.scenario == "rooms":
        for k in range(0, len(clients), 2):
            clients[k].partner, clients[k + 1].partner = clients[k + 1], clients[k]
    readers = [asyncio.create_task(reader(c)) for c in clients]
    await asyncio.sleep(0.5)  # group_add done
    cpu0 = cpu_seconds(pids) if pids else None
    t0 = time.monotonic_ns()
    state["t0"] = t0
    end = t0 + int(o.duration * 1e9)

    async def progress():
        last = 0
        while True:
            await asyncio.sleep(1)
            print(f"delivered/s {state['delivered'] - last}", file=sys.stderr)
            last = state["delivered"]

    ticker = asyncio.create_task(progress())
    await asyncio.gather(*[sender(c, end) for c in clients if c.sends])
    secs = (time.monotonic_ns() - t0) / 1e9
    state["stop"] = True
    ticker.cancel()
    del readers
    out = {
        "scenario": o.scenario, "peer": "django-channels", "tls": False,
        "members": o.members, "rooms": o.rooms, "size": o.size, "window": window,
        "duration_s": round(secs, 3), "sent": state["sent"], "delivered": state["delivered"],
        "sent_per_sec": state["sent"] / secs, "delivered_per_sec": state["delivered"] / secs,
        "latency_kind": "send_to_delivery",
    }
    lat.sort()

    def q(p):
        return lat[min(len(lat) - 1, int(p * (len(lat) - 1)))] / 1e3 if lat else 0

    out["latency_us"] = {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999),
                         "max": lat[-1] / 1e3 if lat else 0}
    out["errors"] = state["errors"]
    if pids:
        cpu_pct = (cpu_seconds(pids) - cpu0) / secs * 100
        out["cpu_pct"] = cpu_pct
        out["rss_bytes"] = rss_bytes(pids)
        if cpu_pct > 0:
            out["delivered_per_server_core_sec"] = out["delivered_per_sec"] / (cpu_pct / 100)
    print(f"channels {o.scenario}: {secs:.1f} s, delivered {out['delivered_per_sec']:.0f}/s",
          file=sys.stderr)
    if o.json:
        print(json.dumps(out), flush=True)
    os._exit(0 if state["errors"] == 0 and state["delivered"] > 0 else 1)


asyncio.run(main())
