#!/usr/bin/env python3
"""Link latency for the NAT lab, whose kernel has no netem: holds every packet of one NFQUEUE queue for
a fixed time, then accepts it, in arrival order. Raw nfnetlink (linux/netfilter/nfnetlink_queue.h) over
an AF_NETLINK socket, so it needs nothing but Python 3.

    nfq-delay.py <queue-number> <delay-ms>

Prints `ready queue=<n> delay_ms=<ms>` once bound; on SIGTERM/SIGINT prints `held <count>` (packets
delayed) and exits 0. Started by @pyp2p/netlab (lab-latency.ts) inside a router's namespace."""
import heapq, select, signal, socket, struct, sys, time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_ACCEPT = 1

def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, t) + payload + b'\0' * ((4 - n % 4) % 4)

def msg(mtype, queue, attrs, flags=NLM_F_REQUEST, seq=0):
    body = struct.pack('=BBH', socket.AF_UNSPEC, 0, socket.htons(queue)) + b''.join(attrs)
    return struct.pack('=IHHII', 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | mtype, flags, seq, 0) + body

def main():
    queue, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    for seq, a in enumerate([
        attr(NFQA_CFG_CMD, struct.pack('!BBH', NFQNL_CFG_CMD_BIND, 0, 0)),
        attr(NFQA_CFG_PARAMS, struct.pack('!IB', 0, NFQNL_COPY_META) + b'\0\0\0'),
    ], 1):
        s.send(msg(NFQNL_MSG_CONFIG, queue, [a], NLM_F_REQUEST | NLM_F_ACK, seq))
        r = s.recv(65536)
        ln, t = struct.unpack_from('=IH', r)
        if t == NLMSG_ERROR and struct.unpack_from('=i', r, 16)[0] != 0:
            sys.exit(f'nfqueue config failed: {-struct.unpack_from("=i", r, 16)[0]}')
    print(f'ready queue={queue} delay_ms={delay * 1000:g}', flush=True)
    held = []  # (due, packet id)
    count = 0

    def stop(_signum, _frame):
        print(f'held {count}', flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        readable, _, _ = select.select([s], [], [], timeout)
        if readable:
            try:
                data = s.recv(1 << 16)
            except OSError as e:  # ENOBUFS: the kernel dropped notifications; go on with the rest
                print(f'recv: {e}', file=sys.stderr, flush=True)
                continue
            off = 0
            while off + 16 <= len(data):
                ln, t = struct.unpack_from('=IH', data, off)
                if ln < 16: break
                if t == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    a = off + 20
                    while a + 4 <= off + ln:
                        alen, atype = struct.unpack_from('=HH', data, a)
                        if alen < 4: break
                        if atype & 0x7fff == NFQA_PACKET_HDR:
                            pid = struct.unpack_from('!I', data, a + 4)[0]
                            heapq.heappush(held, (time.monotonic() + delay, pid))
                            count += 1
                        a += (alen + 3) & ~3
                off += (ln + 3) & ~3
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, pid = heapq.heappop(held)
            s.send(msg(NFQNL_MSG_VERDICT, queue, [attr(NFQA_VERDICT_HDR, struct.pack('!II', NF_ACCEPT, pid))]))

main()
