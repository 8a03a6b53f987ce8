#!/usr/bin/python3
"""The fanout shape against Django Channels (Daphne + channels-redis): N
member WebSockets on /room/, one sender on /send/ keeping `window` texts in
flight (each acknowledged by the server after group_send). Same JSON as
parley-loadgen. Run with Debian's /usr/bin/python3 (python3-websockets).

  channels_fanout.py --server 127.0.0.1:8000 [--members 100] [--size 64]
      [--duration 5] [--window 128] [--server-pid PID[,PID...]] [--json]

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
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--server-pid", default="")
    ap.add_argument("--json", action="store_true")
    o = ap.parse_args()
    pids = [int(p) for p in o.server_pid.split(",") if p]
    base = f"ws://{o.server}"
    lat = []
    state = {"delivered": 0, "sent": 0, "errors": 0, "t0": None, "stop": False}

    async def member(ws):
        async for text in ws:
            t0 = state["t0"]
            if state["stop"]:
                return
            stamp = int(text.split(" ", 1)[0])
            if t0 is None or stamp < t0:
                continue
            state["delivered"] += 1
            lat.append(time.monotonic_ns() - stamp)

    members = [await websockets.connect(base + "/room/", max_queue=None) for _ in range(o.members)]
    readers = [asyncio.create_task(member(ws)) for ws in members]
    sender = await websockets.connect(base + "/send/", max_queue=None)
    await asyncio.sleep(0.5)  # group_add done
    cpu0 = cpu_seconds(pids) if pids else None
    t0 = time.monotonic_ns()
    state["t0"] = t0
    end = t0 + int(o.duration * 1e9)
    inflight = 0
    acked = asyncio.Event()

    async def acks():
        nonlocal inflight
        async for text in sender:
            inflight -= 1
            if text == "ok":
                state["sent"] += 1
            else:
                state["errors"] += 1
            acked.set()

    ack_task = asyncio.create_task(acks())
    last = time.monotonic_ns()
    last_delivered = 0
    while time.monotonic_ns() < end:
        while inflight < o.window:
            text = (str(time.monotonic_ns()) + " ").ljust(max(o.size, 24), "x")
            inflight += 1
            await sender.send(text)
        acked.clear()
        try:
            await asyncio.wait_for(acked.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
        now = time.monotonic_ns()
        if now - last >= 1e9:
            print(f"delivered/s {state['delivered'] - last_delivered}", file=sys.stderr)
            last, last_delivered = now, state["delivered"]
    secs = (time.monotonic_ns() - t0) / 1e9
    state["stop"] = True
    out = {
        "scenario": "fanout", "peer": "django-channels", "tls": False,
        "members": o.members, "size": o.size, "window": o.window, "duration_s": round(secs, 3),
        "sent": state["sent"], "delivered": state["delivered"],
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
    print(f"channels fanout: {secs:.1f} s, delivered {out['delivered_per_sec']:.0f}/s",
          file=sys.stderr)
    if o.json:
        print(json.dumps(out), flush=True)
    os._exit(0 if state["errors"] == 0 and state["delivered"] > 0 else 1)


asyncio.run(main())
