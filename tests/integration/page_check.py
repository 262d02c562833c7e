#!/usr/bin/env python3
"""Assertions on serve's status page as headless Chromium saw it (test_serve_page.sh).

    page_check.py dom DOM_FILE REPORT_JSON RUNBOOK_BASE   the page shows the report: verdict,
                                                         findings + remediation, matrix, paths, history
    page_check.py injected DOM_FILE MARKUP               MARKUP is text in the DOM, never an element
    page_check.py png PNG_FILE WIDTH                     a PNG, WIDTH wide, with the page's colours in it
    page_check.py csp HTML_FILE HEADERS_FILE             the CSP's style hash is the SHA-256 of the
                                                         page's one <style> block

DOM_FILE is what `chromium --dump-dom` printed: the DOM after parsing, serialised again, so text
that was escaped in the page is escaped again there and an element that got through is an element.
Exit 1 with a message on the first failed assertion.
"""
import base64
import hashlib
import html.parser
import json
import re
import struct
import sys
import zlib


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


class Dom(html.parser.HTMLParser):
    """Elements (tag, attributes, text inside) and the page's whole text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []  # [tag, attrs, text]
        self.open = []
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = [tag, dict(attrs), ""]
        self.elements.append(element)
        if tag not in ("meta", "br", "img", "link", "input", "hr"):
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for element in self.open:
            element[2] += data

    def by_id(self, ident):
        found = [e for e in self.elements if e[1].get("id") == ident]
        return found[0] if found else None

    def all_text(self):
        return " ".join(" ".join(self.text).split())


def squash(text):
    return " ".join(text.split())


def rows_of(dom, table_id):
    """The rows of the table with id TABLE_ID as lists of (tag, class, text) cells."""
    rows, inside, row = [], False, None
    for tag, attrs, text in dom.elements:
        if tag == "table":
            inside = attrs.get("id") == table_id
        elif inside and tag == "tr":
            row = []
            rows.append(row)
        elif inside and tag in ("td", "th") and row is not None:
            row.append((tag, attrs.get("class", ""), squash(text)))
    return rows


def check_dom(dom_file, report_file, runbook_base):
    dom = Dom(open(dom_file, encoding="utf-8").read())
    report = json.load(open(report_file))
    verdict = dom.by_id("verdict")
    if verdict is None or squash(verdict[2]) != report["verdict"]:
        fail(f"verdict element shows {verdict and verdict[2]!r}, /report says {report['verdict']!r}")
    findings = dom.by_id("findings")
    if findings is None:
        fail("no findings section")
    shown = squash(findings[2])
    for finding in report["findings"]:
        for part in (finding["code"], finding["summary"], finding["remediation"]):
            if squash(part) not in shown:
                fail(f"finding {finding['code']}: {part!r} is not on the page")
    links = {squash(t): a.get("href") for tag, a, t in dom.elements if tag == "a" and "code" in a.get("class", "")}
    if links.get("EXTERNAL_DNS_MISMATCH") != f"{runbook_base}#coderdnsmismatch":
        fail(f"EXTERNAL_DNS_MISMATCH links {links.get('EXTERNAL_DNS_MISMATCH')!r}, not {runbook_base}#coderdnsmismatch")

    rows = rows_of(dom, "matrix")
    if not rows:
        fail("no host x resolver matrix")
    header = [text for _, _, text in rows[0]]
    for resolver in ("cluster", "upstream", "public"):
        if resolver not in header:
            fail(f"matrix has no column {resolver}: {header}")
    for entry in report["dns"]:
        if entry["query"] != "absolute" or entry["family"] != "A" or entry["match"] is None:
            continue
        row = next((r for r in rows[1:] if r[0][2] == entry["host"]), None)
        if row is None:
            fail(f"matrix has no row for {entry['host']}")
        _, css, text = row[header.index(entry["resolver"])]
        want = "ok" if entry["match"] else "bad"
        if css != want or not all(address in text for address in entry["addresses"]):
            fail(f"matrix {entry['host']} x {entry['resolver']}: {text!r} class {css!r}, want {entry['addresses']} {want}")

    paths = rows_of(dom, "paths")
    urls = {cells[0][2] for cells in paths[1:]}
    for request in report["http"]:
        if request["url"] not in urls:
            fail(f"the paths table lacks {request['url']}")
    if report["transport"] and not rows_of(dom, "transport")[1:]:
        fail("the transport checks are not on the page")
    history = dom.by_id("history")
    if history is None or not [e for e in dom.elements if e[0] == "span" and "title" in e[1]]:
        fail("no history strip")
    build = dom.by_id("build")
    if build is None or "coder-dns-doctor" not in build[2]:
        fail("no build info")
    print(f"dom: verdict {report['verdict']}, {len(report['findings'])} findings, {len(rows) - 1} matrix rows, "
          f"{len(paths) - 1} paths")


def check_injected(dom_file, markup):
    text = open(dom_file, encoding="utf-8").read()
    dom = Dom(text)
    ident = re.search(r'id="([^"]+)"', markup).group(1)
    if dom.by_id(ident) is not None:
        fail(f"the injected markup became an element: {dom.by_id(ident)}")
    if [e for e in dom.elements if e[0] == "script"]:
        fail("a <script> element is in the DOM")
    if markup not in dom.all_text() and markup not in " ".join(dom.text):
        fail(f"the injected text {markup!r} is not shown as text")
    print(f"injected: {markup!r} is text ({' '.join(dom.text).count(markup)} times), no element")


def png_pixels(data):
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG: (width, height, rows of bytes, channels)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG signature")
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        fail(f"unexpected PNG format depth={depth} colour={colour} interlace={interlace}")
    channels = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows, channels


def check_png(png_file, width):
    data = open(png_file, "rb").read()
    if len(data) < 10_000:
        fail(f"{png_file} is only {len(data)} bytes")
    got_width, height, rows, channels = png_pixels(data)
    if got_width != int(width):
        fail(f"the screenshot is {got_width} wide, asked for {width}")
    colours = set()
    for row in rows:
        for x in range(0, len(row), channels):
            colours.add(row[x:x + 3])
    # The stylesheet's cell colours: if the CSP had refused the inline style, the page would be
    # black on white and neither would show.
    for name, rgb in (("bad #fde2e1", b"\xfd\xe2\xe1"), ("ok #e3f6e5", b"\xe3\xf6\xe5")):
        if rgb not in colours:
            fail(f"the screenshot has no {name} pixel: the inline style did not apply")
    print(f"png: {got_width}x{height}, {len(data)} bytes, {len(colours)} colours, the style applied")


def check_csp(html_file, headers_file):
    page = open(html_file, encoding="utf-8").read()
    headers = open(headers_file, encoding="utf-8").read()
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    if len(styles) != 1:
        fail(f"{len(styles)} <style> blocks, expected 1")
    policy = re.search(r"^content-security-policy:\s*(.*?)\r?$", headers, re.I | re.M)
    if policy is None:
        fail("no Content-Security-Policy header")
    policy = policy.group(1)
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    for part in ("default-src 'none'", f"style-src 'sha256-{digest}'", "script-src 'none'"):
        if part not in policy:
            fail(f"the policy lacks {part!r}: {policy}")
    print(f"csp: {policy}")


if __name__ == "__main__":
    commands = {"dom": check_dom, "injected": check_injected, "png": check_png, "csp": check_csp}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        fail(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
