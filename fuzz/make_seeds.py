#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<target>/) from the recorded engine traffic in
tests/data and from a traffic log of the simulator (`qix --traffic FILE ...`, JSON lines).

    fuzz/make_seeds.py SIM_TRAFFIC.jsonl [...]

Run by hand when the protocol coverage of the seeds should grow; the output is committed.
"""
import hashlib
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent
corpus = root / "corpus"


def write(target, text):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


received, sent = [], []
for path in sorted((root.parent / "tests" / "data").glob("traffic-*")):
    for line in path.read_text().splitlines():
        if line.startswith("Received: "):
            received.append(line[len("Received: "):])
        elif line.startswith("Sent: "):
            sent.append(line[len("Sent: "):])
for path in sys.argv[1:]:
    for line in pathlib.Path(path).read_text().splitlines():
        entry = json.loads(line)
        text = json.dumps(entry["frame"], separators=(",", ":"))
        (sent if entry["dir"] == "sent" else received).append(text)

# fuzz_frame: single frames, and runs of consecutive frames (answers for the ids the target leaves pending).
for frame in received:
    write("fuzz_frame", frame)
for i in range(0, len(received), 4):
    write("fuzz_frame", "\n".join(received[i:i + 4]))

# fuzz_frame resume mode ("R\n" first): the frames of a resume on the new connection. The ids are the
# target's: GetActiveDoc is request 8, then OpenDoc 9 (or the object's re-acquisition), the object 10.
def rpc(i, body):
    return '{"jsonrpc":"2.0","id":%d,%s}' % (i, body)


greet = '{"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"%s"}}'
doc = '"result":{"qReturn":{"qType":"Doc","qHandle":11,"qGenericId":"demo"}}'
obj = '"result":{"qReturn":{"qType":"GenericObject","qHandle":12,"qGenericId":"o"}},"change":[12]'
no_doc = '"error":{"code":1007,"parameter":"","message":"App invalid"}'
already = '"error":{"code":1002,"parameter":"demo","message":"App already open"}'
resend = [rpc(3, '"result":{"qLayout":{"a":1}}'), rpc(4, '"delta":true,"result":{"qLayout":[{"op":"add","path":"/a","value":1}]}'),
          rpc(5, '"result":{"qLayout":{}}'), rpc(6, '"result":{"qVersion":{"qComponentVersion":"x"}}'),
          rpc(7, '"result":{"qReturn":"1"}')]
write("fuzz_frame", "R\n" + greet % "SESSION_CREATED")
write("fuzz_frame", "R\n" + "\n".join([greet % "SESSION_CREATED", rpc(8, no_doc), rpc(9, doc), rpc(10, obj)] + resend))
write("fuzz_frame", "R\n" + "\n".join([greet % "SESSION_ATTACHED", rpc(8, doc), rpc(9, obj.replace("12", "12"))]))
write("fuzz_frame", "R\n" + "\n".join([greet % "SESSION_CREATED", rpc(8, no_doc), rpc(9, already), rpc(10, doc), rpc(11, obj)]))

# fuzz_json_patch: a document and a patch; documents are real results, patches the simulator's deltas.
documents, patches = [], []
for frame in received:
    value = json.loads(frame)
    result = value.get("result")
    if not isinstance(result, dict):
        continue
    for out in result.values():
        if value.get("delta") and isinstance(out, list):
            patches.append(out)
        else:
            documents.append(out)
for i, patch in enumerate(patches):
    doc = documents[i % len(documents)] if documents else {}
    write("fuzz_json_patch", json.dumps(doc, separators=(",", ":")) + "\n" + json.dumps(patch, separators=(",", ":")))
write("fuzz_json_patch", '{"a":[1,2,{"b":null}],"c":"x"}\n'
      '[{"op":"add","path":"/a/-","value":3},{"op":"move","from":"/c","path":"/d"},'
      '{"op":"test","path":"/a/0","value":1},{"op":"remove","path":"/a/2/b"},{"op":"copy","from":"/a","path":"/e"},'
      '{"op":"replace","path":"/","value":{"z":1}}]')

# fuzz_url: complete URLs and builder fields (secure, host, port, prefix, subpath, route, app, identity, ttl, param).
for url in ["wss://tenant.eu.qlikcloud.com/app/8ea3a1b0-5c3a-4d3e-9d6b-2f0e6d0b1c2a",
            "ws://localhost:9076/app/engineData", "wss://[::1]:4747/app/my%20app/identity/x/ttl/30?reloadUri=h",
            "http://sense.example.com/proxy/app/a?x=1#frag", "WSS://HOST:00443"]:
    write("fuzz_url", url)
write("fuzz_url", "1\nsense.example.com\n\x10\n/proxy/\nsub\n\napp id\nident\n\x1e\nreloadUri")

# fuzz_capi_args: call params as sent, and option name/value pairs.
for frame in sent:
    value = json.loads(frame)
    if "params" in value:
        write("fuzz_capi_args", json.dumps(value["params"], separators=(",", ":")))
for pair in ["url\nwss://h:443/app/x", "url.host\nexample.com", "tls.verify\n1", "timeout.call_ms\n5000",
             "Authorization\nBearer abc", "delta\n0"]:
    write("fuzz_capi_args", pair)

# fuzz_ws: a byte for the size of the pieces, then server frames: recorded answers framed in every length
# form, fragments with a ping between them, and the ends (close frames, a masked frame).


def ws_frame(op, payload, fin=True):
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


def write_bytes(target, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


answers = [f.encode() for f in received[:40]]
for i, a in enumerate(answers):
    write_bytes("fuzz_ws", bytes([i % 16]) + ws_frame(1, a) + ws_frame(9, b"ping") + ws_frame(1, a))
long_answer = b"".join(answers)
write_bytes("fuzz_ws", bytes([3]) + ws_frame(1, long_answer[:200], False) + ws_frame(9, b"") +
            ws_frame(0, long_answer[200:], True) + ws_frame(10, b"pong"))
write_bytes("fuzz_ws", bytes([7]) + ws_frame(1, "caf\u00e9".encode()) + ws_frame(8, (4003).to_bytes(2, "big") + b"bye"))
write_bytes("fuzz_ws", bytes([0]) + ws_frame(8, b""))
write_bytes("fuzz_ws", bytes([1]) + bytes([0x81, 0x82, 0, 0, 0, 0]) + b"{}")
