#!/usr/bin/python3
"""Modbus TCP test device on pymodbus (Debian python3-pymodbus).

usage: server.py PORT [--slow MS] [--rtu] [--units 1,2] [--serial rtu|ascii]

Wire addresses are zero-based (zero_mode). Known contents:
  coils 0..15            1,0,1,1,0,0,0,1, 1,1,0,0,0,0,0,0
  discrete inputs 0..7   0,1,0,1,1,0,0,0
  holding 0..9           100..109
  holding 10..11         float32 12.5, low word first   (0x0000, 0x4148)
  holding 12..13         float32 -3.25, high word first (0xC050, 0x0000)
  holding 20..23         "Sluice!" (two ASCII bytes per register, NUL padded)
  holding 30             int16 -5 (0xFFFB)
  holding 100            counter, +1 every 100 ms
  holding 0..199 exist; 200 and above answer exception 2 (illegal address)
  input registers 0..9   1000..1009
With --slow every register read takes that long (a slow device); with
--rtu the server speaks RTU frames over TCP (a serial gateway); with --units
only those unit ids answer (others get no answer, as on a real bus). With
--serial the device sits on a serial line instead: two pseudo-terminals
joined back to back, the server on one; the other's path is printed as
"serial PATH" for the client (PORT is then unused).
"""
import argparse
import asyncio
import os
import threading
import tty
import logging
import sys
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartAsyncTcpServer

logging.basicConfig(level=logging.CRITICAL)

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--slow", type=int, default=0)
ap.add_argument("--rtu", action="store_true")
ap.add_argument("--units", default="")
ap.add_argument("--serial", default="")
opts = ap.parse_args()
port = opts.port
slow = opts.slow / 1000.0
rtu = opts.rtu


class SlowBlock(ModbusSequentialDataBlock):
    def getValues(self, address, count=1):
        if slow:
            time.sleep(slow)
        return super().getValues(address, count)


hr = [0] * 200
hr[0:10] = list(range(100, 110))
hr[10:12] = [0x0000, 0x4148]
hr[12:14] = [0xC050, 0x0000]
text = b"Sluice!\x00"
hr[20:24] = [text[i] << 8 | text[i + 1] for i in range(0, 8, 2)]
hr[30] = 0xFFFB

holding = SlowBlock(0, hr)
store = ModbusSlaveContext(
    co=ModbusSequentialDataBlock(0, [1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
    di=ModbusSequentialDataBlock(0, [0, 1, 0, 1, 1, 0, 0, 0]),
    hr=holding,
    ir=SlowBlock(0, list(range(1000, 1010))),
    zero_mode=True,
)
if opts.units:
    context = ModbusServerContext(slaves={int(u): store for u in opts.units.split(",")}, single=False)
else:
    context = ModbusServerContext(slaves=store, single=True)


async def count():
    while True:
        await asyncio.sleep(0.1)
        v = holding.getValues(100, 1)[0] if not slow else 0
        holding.values[100] = (v + 1) & 0xFFFF


def pty_pair():
    """Two raw pseudo-terminals whose masters copy into each other, as a
    null-modem cable; returns the two slave paths."""
    ends = []
    for _ in range(2):
        m, sl = os.openpty()
        tty.setraw(sl)
        ends.append((m, sl, os.ttyname(sl)))

    def pump(src, dst):
        while True:
            try:
                b = os.read(src, 4096)
            except OSError:
                time.sleep(0.01)
                continue
            os.write(dst, b)

    for a, b in ((0, 1), (1, 0)):
        threading.Thread(target=pump, args=(ends[a][0], ends[b][0]), daemon=True).start()
    return ends[0][2], ends[1][2]


async def main():
    asyncio.get_running_loop().create_task(count())
    if opts.serial:
        from pymodbus.framer.ascii_framer import ModbusAsciiFramer
        from pymodbus.framer.rtu_framer import ModbusRtuFramer
        from pymodbus.server import StartAsyncSerialServer
        mine, theirs = pty_pair()
        print("serial", theirs, flush=True)
        framer = ModbusRtuFramer if opts.serial == "rtu" else ModbusAsciiFramer
        await StartAsyncSerialServer(context=context, framer=framer, port=mine, baudrate=19200)
        return
    kw = {}
    if rtu:
        from pymodbus.framer.rtu_framer import ModbusRtuFramer
        kw["framer"] = ModbusRtuFramer
    await StartAsyncTcpServer(context=context, address=("127.0.0.1", port), allow_reuse_address=True, **kw)


asyncio.run(main())
