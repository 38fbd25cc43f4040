#!/usr/bin/python3
"""End-to-end tests of the ODBC driver libqixodbc.so through unixODBC's driver manager, with isql and pyodbc,
against qix-engine-sim serving the CSV app in odbc/tests/data/sales (and the built-in demo, demo-large).

Expected values are computed here from the CSV files. Each test starts its own simulator (port 0, read from its
`listening on` line) and writes odbcinst.ini/odbc.ini into a temporary directory (ODBCSYSINI, ODBCINI).

Run by CTest as odbc.e2e.<Class>.<method>, one process per test; `--list` prints the names. Environment:
QIX_ODBC_DRIVER (the driver), QIX_SIM_EXE, QIX_ISQL_EXE, QIX_ODBC_DATA (the CSV apps' directory).
"""
import csv
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from collections import Counter, defaultdict

DRIVER = os.environ.get("QIX_ODBC_DRIVER", "")
SIM = os.environ.get("QIX_SIM_EXE", "")
ISQL = os.environ.get("QIX_ISQL_EXE", "isql")
DATA = os.environ.get("QIX_ODBC_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))


def load_csv(name):
    with open(os.path.join(DATA, "sales", name + ".csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(s):
    """A CSV value as the engine reads it: a number when it parses as one, None when empty."""
    if s == "":
        return None
    try:
        v = float(s)
        return int(v) if v.is_integer() else v
    except ValueError:
        return s


ORDERS = [{k: num(v) for k, v in r.items()} for r in load_csv("Orders")]
REGIONS = [{k: num(v) for k, v in r.items()} for r in load_csv("Regions")]


class Sim:
    """qix-engine-sim on a free port; `url` is its ws:// base URL."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SIM, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError("simulator did not start: " + line + self.proc.stderr.read())
        self.url = line[len("listening on "):]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class OdbcTest(unittest.TestCase):
    sim_args = ("--data", DATA)
    app = "sales"

    def setUp(self):
        self.sim = Sim(*self.sim_args)
        self.addCleanup(self.sim.stop)
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        with open(os.path.join(self.dir.name, "odbcinst.ini"), "w") as f:
            f.write("[libqix]\nDescription=libqix ODBC driver for the Qlik QIX Engine\nDriver=%s\n" % DRIVER)
        with open(os.path.join(self.dir.name, "odbc.ini"), "w") as f:
            f.write("[qixtest]\nDriver=libqix\nUrl=%s/app/%s\n" % (self.sim.url, self.app))
        os.environ["ODBCSYSINI"] = self.dir.name
        os.environ["ODBCINI"] = os.path.join(self.dir.name, "odbc.ini")

    def conn_str(self, extra=""):
        return "Driver=libqix;Url=%s/app/%s;%s" % (self.sim.url, self.app, extra)

    def connect(self, extra=""):
        import pyodbc
        c = pyodbc.connect(self.conn_str(extra), autocommit=True)
        self.addCleanup(c.close)
        return c

    def query(self, sql, conn=None):
        cur = (conn or self.connect()).cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]

    def sqlstate(self, fn):
        import pyodbc
        try:
            fn()
        except pyodbc.Error as e:
            return e.args[0], str(e)
        self.fail("no error")

    def isql(self, sql, dsn="qixtest"):
        p = subprocess.run([ISQL, "-v", "-b", "-d|", "-c", dsn], input=sql + "\n", capture_output=True, text=True,
                           env=os.environ)
        return p.returncode, p.stdout, p.stderr


class Isql(OdbcTest):
    def test_tables(self):
        rc, out, _ = self.isql("help")
        lines = out.splitlines()
        self.assertEqual(lines[0], "TABLE_CAT|TABLE_SCHEM|TABLE_NAME|TABLE_TYPE|REMARKS")
        self.assertIn("|data|Orders|TABLE|%d rows" % len(ORDERS), lines)
        self.assertIn("|data|Regions|TABLE|%d rows" % len(REGIONS), lines)

    def test_columns_typed_from_field_tags(self):
        rc, out, _ = self.isql("help Orders")
        types = {}
        for line in out.splitlines()[1:]:
            cells = line.split("|")
            if len(cells) > 5:
                types[cells[3]] = cells[5]
        self.assertEqual(types, {"OrderId": "BIGINT", "Region": "VARCHAR", "Product": "VARCHAR",
                                 "Quantity": "BIGINT", "Price": "DOUBLE", "Channel": "VARCHAR"})

    def test_select(self):
        rc, out, err = self.isql("SELECT Region, Manager, Target FROM Regions ORDER BY Region")
        lines = out.splitlines()
        self.assertEqual(lines[0], "Region|Manager|Target")
        expected = sorted(REGIONS, key=lambda r: r["Region"])
        got = [line.split("|") for line in lines[1:]]
        self.assertEqual(got, [[r["Region"], r["Manager"], "" if r["Target"] is None else str(r["Target"])]
                               for r in expected])

    def test_aggregate(self):
        rc, out, _ = self.isql("SELECT Region, SUM(Quantity) AS q FROM Orders GROUP BY Region ORDER BY q DESC")
        sums = Counter()
        for r in ORDERS:
            sums[r["Region"]] += r["Quantity"]
        self.assertEqual(out.splitlines()[1:], ["%s|%d" % kv for kv in sorted(sums.items(), key=lambda kv: -kv[1])])

    def test_iusql_unicode(self):
        # iusql calls the W functions: the driver manager maps them onto the driver's ANSI ones (UTF-16 <-> UTF-8).
        p = subprocess.run([os.path.join(os.path.dirname(ISQL), "iusql"), "qixtest", "-v", "-b", "-d|", "-c"],
                           input="SELECT Manager FROM Regions WHERE Region = 'North'\n", capture_output=True,
                           encoding="latin-1", env=os.environ)
        # iusql prints each UTF-16 code unit below 256 as one byte: U+00C5 comes out as the byte 0xC5.
        self.assertEqual([line for line in p.stdout.splitlines() if line.strip()], ["Manager", "Åsa"])

    def test_bad_sql_is_42000_naming_the_construct(self):
        rc, out, err = self.isql("SELECT Region FROM Orders o JOIN Regions r ON o.Region = r.Region")
        # isql is an ODBC 2 application: the driver manager maps 42000 to 37000.
        self.assertRegex(out + err, r"\[(42000|37000)\].*JOIN is not supported")


class PyOdbc(OdbcTest):
    def test_catalog_tables_and_columns(self):
        cur = self.connect().cursor()
        tables = {(t.table_schem, t.table_name, t.table_type) for t in cur.tables()}
        self.assertEqual(tables, {("data", "Orders", "TABLE"), ("data", "Regions", "TABLE")})
        import pyodbc
        cols = {c.column_name: (c.data_type, c.type_name, c.ordinal_position) for c in cur.columns(table="Orders")}
        self.assertEqual(cols["OrderId"], (pyodbc.SQL_BIGINT, "BIGINT", 1))
        self.assertEqual(cols["Price"], (pyodbc.SQL_DOUBLE, "DOUBLE", 5))
        self.assertEqual(cols["Channel"], (pyodbc.SQL_VARCHAR, "VARCHAR", 6))
        self.assertEqual([c.column_name for c in cur.columns(table="Reg%", column="M%")], ["Manager"])
        # The model has no keys, indexes or procedures: empty results, not errors.
        self.assertEqual(cur.primaryKeys("Orders").fetchall(), [])
        self.assertEqual(cur.foreignKeys("Orders").fetchall(), [])
        self.assertEqual(cur.statistics("Orders").fetchall(), [])
        self.assertEqual(cur.rowIdColumns("Orders").fetchall(), [])
        self.assertEqual(cur.procedures().fetchall(), [])
        types = [t.type_name for t in cur.getTypeInfo()]
        self.assertEqual(types, ["BIGINT", "DOUBLE", "VARCHAR", "DATE", "TIMESTAMP"])

    def test_select_star_rows_types_and_nulls(self):
        cur = self.connect().cursor()
        cur.execute("SELECT * FROM Orders")
        self.assertEqual([d[0] for d in cur.description], list(ORDERS[0].keys()))
        self.assertEqual([d[1] for d in cur.description], [int, str, str, int, float, str])
        rows = sorted(tuple(r) for r in cur.fetchall())
        self.assertEqual(rows, sorted(tuple(r.values()) for r in ORDERS))

    def test_select_without_unique_column_keeps_duplicate_rows(self):
        rows = self.query("SELECT Region, Product FROM Orders")
        self.assertEqual(Counter(rows), Counter((r["Region"], r["Product"]) for r in ORDERS))
        rows = self.query("SELECT DISTINCT Region, Product FROM Orders")
        self.assertEqual(sorted(rows), sorted({(r["Region"], r["Product"]) for r in ORDERS}))

    def test_aggregates_group_by(self):
        rows = self.query("SELECT Region, SUM(Quantity), COUNT(*), COUNT(DISTINCT Product), AVG(Price), "
                          "MIN(Price), MAX(Quantity), COUNT(Price) FROM Orders GROUP BY Region")
        groups = defaultdict(list)
        for r in ORDERS:
            groups[r["Region"]].append(r)
        expected = []
        for region, rs in groups.items():
            prices = [r["Price"] for r in rs if r["Price"] is not None]
            expected.append((region, sum(r["Quantity"] for r in rs), len(rs), len({r["Product"] for r in rs}),
                             sum(prices) / len(prices), min(prices), max(r["Quantity"] for r in rs), len(prices)))
        self.assertEqual(len(rows), len(expected))
        got = {r[0]: r for r in rows}
        for e in expected:
            g = got[e[0]]
            self.assertEqual(g[1:4], e[1:4])
            self.assertAlmostEqual(g[4], e[4])
            self.assertEqual(g[5:], e[5:])

    def test_aggregates_without_group_by(self):
        rows = self.query("SELECT SUM(Quantity) AS q, COUNT(*) FROM Orders")
        self.assertEqual(rows, [(sum(r["Quantity"] for r in ORDERS), len(ORDERS))])

    def test_group_by_column_not_selected(self):
        rows = self.query("SELECT SUM(Quantity) FROM Orders GROUP BY Region")
        sums = Counter()
        for r in ORDERS:
            sums[r["Region"]] += r["Quantity"]
        self.assertEqual(sorted(r[0] for r in rows), sorted(sums.values()))

    def test_where_equals_and_in(self):
        conn = self.connect()
        rows = self.query("SELECT OrderId FROM Orders WHERE Region = 'South'", conn)
        self.assertEqual(sorted(r[0] for r in rows), [r["OrderId"] for r in ORDERS if r["Region"] == "South"])
        rows = self.query("SELECT OrderId, Quantity FROM Orders WHERE Product IN ('Apple', 'Plum') "
                          "AND Region IN ('North', 'West') ORDER BY OrderId", conn)
        self.assertEqual(rows, [(r["OrderId"], r["Quantity"]) for r in ORDERS
                                if r["Product"] in ("Apple", "Plum") and r["Region"] in ("North", "West")])
        rows = self.query("SELECT COUNT(*) FROM Orders WHERE Quantity = 4", conn)
        self.assertEqual(rows, [(sum(1 for r in ORDERS if r["Quantity"] == 4),)])
        # Each query starts from no selection: the previous WHERE does not linger.
        self.assertEqual(self.query("SELECT COUNT(*) FROM Orders", conn), [(len(ORDERS),)])

    def test_where_matching_nothing(self):
        conn = self.connect()
        self.assertEqual(self.query("SELECT OrderId FROM Orders WHERE Region = 'Nowhere'", conn), [])
        self.assertEqual(self.query("SELECT COUNT(*), SUM(Quantity) FROM Orders WHERE Region = 'Nowhere'", conn),
                         [(0, None)])
        # Values that exist, in a combination that does not.
        self.assertFalse([r for r in ORDERS if r["Region"] == "North" and r["Product"] == "Plum"])
        self.assertEqual(self.query("SELECT OrderId FROM Orders WHERE Region = 'North' AND Product = 'Plum'", conn),
                         [])
        self.assertEqual(self.query("SELECT COUNT(*) FROM Orders WHERE Product = 'Plum' AND Region = 'North'", conn),
                         [(0,)])

    def test_selections_are_per_connection(self):
        a, b = self.connect(), self.connect()
        ca = a.cursor()
        ca.execute("SELECT OrderId FROM Orders WHERE Region = 'East'")
        first = ca.fetchone()
        self.assertEqual(self.query("SELECT COUNT(*) FROM Orders", b), [(len(ORDERS),)])
        self.assertEqual(sorted([first[0]] + [r[0] for r in ca.fetchall()]),
                         [r["OrderId"] for r in ORDERS if r["Region"] == "East"])

    def test_order_by_and_limit(self):
        conn = self.connect()
        rows = self.query("SELECT OrderId FROM Orders ORDER BY OrderId DESC LIMIT 3", conn)
        self.assertEqual(rows, [(12,), (11,), (10,)])
        rows = self.query("SELECT Product, SUM(Quantity) AS q FROM Orders GROUP BY Product ORDER BY q DESC, 1", conn)
        sums = Counter()
        for r in ORDERS:
            sums[r["Product"]] += r["Quantity"]
        self.assertEqual(rows, sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))
        rows = self.query("SELECT Region, Product FROM Orders ORDER BY Region, Product LIMIT 4", conn)
        self.assertEqual(rows, sorted((r["Region"], r["Product"]) for r in ORDERS)[:4])
        self.assertEqual(self.query("SELECT OrderId FROM Orders LIMIT 0", conn), [])

    def test_pass_through_expression(self):
        rows = self.query('SELECT Region, "=Sum(Quantity * Price)" AS revenue FROM Orders GROUP BY Region')
        rev = defaultdict(float)
        for r in ORDERS:
            if r["Price"] is not None:
                rev[r["Region"]] += r["Quantity"] * r["Price"]
        self.assertEqual(len(rows), len(rev))
        for region, v in rows:
            self.assertAlmostEqual(v, rev[region])

    def test_sql_errors(self):
        cur = self.connect().cursor()
        for sql, state, words in [
            ("SELECT Region FROM Orders o JOIN Regions r ON o.Region = r.Region", "42000", "JOIN"),
            ("SELECT Region FROM Orders WHERE Quantity > 3", "42000", "'>'"),
            ("SELECT Region FROM Orders WHERE Region = 'a' OR Region = 'b'", "42000", "OR"),
            ("SELECT upper(Region) FROM Orders", "42000", "upper()"),
            ("SELECT Region, SUM(Quantity) FROM Orders", "42000", "GROUP BY"),
            ("SELECT Region FROM Orders ORDER BY Quantity", "42000", "ORDER BY"),
            ("UPDATE Orders SET Quantity = 1", "42000", "UPDATE"),
            ("SELECT Region FROM Nowhere", "42S02", "Nowhere"),
            ("SELECT Manager FROM Orders", "42S22", "Manager"),
        ]:
            st, msg = self.sqlstate(lambda: cur.execute(sql))
            self.assertEqual(st, state, sql)
            self.assertIn(words, msg, sql)
        # The connection is still usable.
        cur.execute("SELECT COUNT(*) FROM Orders")
        self.assertEqual(cur.fetchone()[0], len(ORDERS))

    def test_bad_connection_strings(self):
        import pyodbc
        # Nothing listens there: 08001.
        st, _ = self.sqlstate(lambda: pyodbc.connect("Driver=libqix;Url=ws://127.0.0.1:1/app/sales"))
        self.assertEqual(st, "08001")
        # No app: HY000 naming what is missing.
        st, msg = self.sqlstate(lambda: pyodbc.connect("Driver=libqix;Url=%s/" % self.sim.url))
        self.assertEqual(st, "HY000")
        self.assertIn("no app", msg)
        # An option value libqix refuses.
        st, msg = self.sqlstate(lambda: pyodbc.connect(self.conn_str("Option.timeout.call_ms=soon")))
        self.assertEqual(st, "HY000")
        self.assertIn("timeout.call_ms", msg)
        st, msg = self.sqlstate(lambda: pyodbc.connect(self.conn_str("Option.no.such=1")))
        self.assertEqual(st, "HY000")
        # Deliveries the driver cannot use (it waits for its callbacks).
        for name in ("events.poll", "events.inline"):
            st, msg = self.sqlstate(lambda: pyodbc.connect(self.conn_str("Option.%s=1" % name)))
            self.assertEqual(st, "HY000")
            self.assertIn("not supported by the ODBC driver", msg)
        # An app the engine does not have: the engine's error, its code as the native error.
        st, msg = self.sqlstate(lambda: pyodbc.connect("Driver=libqix;Url=%s/app/nope" % self.sim.url))
        self.assertEqual(st, "08004")
        self.assertIn("LOCERR_APP", msg)
        # An unknown attribute is a warning (01S00), not a failure.
        c = pyodbc.connect(self.conn_str("Colour=blue"), autocommit=True)
        c.close()

    def test_dsn_and_sqlconnect(self):
        import pyodbc
        c = pyodbc.connect("DSN=qixtest", autocommit=True)
        self.assertEqual(c.cursor().execute("SELECT COUNT(*) FROM Regions").fetchone()[0], len(REGIONS))
        self.assertEqual(c.getinfo(pyodbc.SQL_DRIVER_NAME), "libqixodbc.so")
        self.assertEqual(c.getinfo(pyodbc.SQL_DATABASE_NAME), "sales")
        c.close()
        # The URL from its parts, and a libqix option by name.
        host, port = self.sim.url[len("ws://"):].split(":")
        c = pyodbc.connect("Driver=libqix;Host=%s;Port=%s;Secure=0;App=sales;Option.timeout.call_ms=60000" % (host, port),
                           autocommit=True)
        self.assertEqual(c.cursor().execute("SELECT COUNT(*) FROM Orders").fetchone()[0], len(ORDERS))
        c.close()


class Auth(OdbcTest):
    sim_args = ("--data", DATA, "--bearer", "s3cret", "--require-header", "X-Qlik-User: UserDirectory=D; UserId=u")

    def test_bearer_and_header(self):
        import pyodbc
        extra = "Bearer=s3cret;Header.X-Qlik-User={UserDirectory=D; UserId=u}"
        c = self.connect(extra)
        self.assertEqual(c.cursor().execute("SELECT COUNT(*) FROM Orders").fetchone()[0], len(ORDERS))
        st, msg = self.sqlstate(lambda: pyodbc.connect(self.conn_str("Bearer=wrong;Header.X-Qlik-User={UserDirectory=D; UserId=u}")))
        self.assertEqual(st, "28000")
        self.assertNotIn("wrong", msg)  # secrets never in messages
        # The DSN's password is the bearer token (SQLConnect(dsn, uid, pwd)).
        with open(os.environ["ODBCINI"], "a") as f:
            f.write("Header.X-Qlik-User=UserDirectory=D; UserId=u\n")
        c = pyodbc.connect("DSN=qixtest;PWD=s3cret", autocommit=True)
        self.assertEqual(c.cursor().execute("SELECT COUNT(*) FROM Regions").fetchone()[0], len(REGIONS))
        c.close()


class Objects(OdbcTest):
    sim_args = ()
    app = "demo"

    def test_master_objects_schema(self):
        cur = self.connect().cursor()
        views = [(t.table_schem, t.table_name) for t in cur.tables(tableType="VIEW")]
        self.assertEqual(views, [("objects", "sales-by-region")])
        cols = [(c.column_name, c.type_name) for c in cur.columns(schema="objects", table="sales-by-region")]
        self.assertEqual(cols, [("Region", "VARCHAR"), ("Sales", "DOUBLE")])
        rows = cur.execute('SELECT * FROM objects."sales-by-region"').fetchall()
        self.assertEqual(len(rows), 6)
        total = cur.execute("SELECT SUM(Sales) FROM Orders").fetchone()[0]
        self.assertAlmostEqual(sum(r[1] for r in rows), total)
        one = cur.execute("SELECT Sales FROM objects.\"sales-by-region\" WHERE Region = 'UK'").fetchall()
        self.assertEqual(len(one), 1)
        self.assertAlmostEqual(one[0][0], dict((r[0], r[1]) for r in rows)["UK"])


class BlockCursor(OdbcTest):
    """SQLBindCol with a row array (block cursor) and SQLGetData in pieces, called through ctypes: pyodbc
    uses neither."""

    def odbc(self):
        import ctypes
        lib = ctypes.CDLL("libodbc.so.2")
        env, dbc, stmt = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        self.assertEqual(lib.SQLAllocHandle(1, None, ctypes.byref(env)), 0)  # SQL_HANDLE_ENV
        lib.SQLSetEnvAttr(env, 200, ctypes.c_void_p(3), 0)  # SQL_ATTR_ODBC_VERSION = SQL_OV_ODBC3
        self.assertEqual(lib.SQLAllocHandle(2, env, ctypes.byref(dbc)), 0)
        cs = self.conn_str().encode()
        self.assertIn(lib.SQLDriverConnect(dbc, None, cs, len(cs), None, 0, None, 0), (0, 1))

        def cleanup():
            lib.SQLDisconnect(dbc)
            lib.SQLFreeHandle(2, dbc)
            lib.SQLFreeHandle(1, env)
        self.addCleanup(cleanup)
        self.assertEqual(lib.SQLAllocHandle(3, dbc, ctypes.byref(stmt)), 0)
        return ctypes, lib, stmt

    def test_bound_columns_with_row_array(self):
        ctypes, lib, stmt = self.odbc()
        n, width = 5, 8
        ids, ids_ind = (ctypes.c_int64 * n)(), (ctypes.c_int64 * n)()
        chans, chans_ind = (ctypes.c_char * (width * n))(), (ctypes.c_int64 * n)()
        fetched, status = ctypes.c_uint64(), (ctypes.c_uint16 * n)()
        lib.SQLSetStmtAttr(stmt, 27, ctypes.c_void_p(n), 0)  # SQL_ATTR_ROW_ARRAY_SIZE
        lib.SQLSetStmtAttr(stmt, 26, ctypes.byref(fetched), 0)  # SQL_ATTR_ROWS_FETCHED_PTR
        lib.SQLSetStmtAttr(stmt, 25, status, 0)  # SQL_ATTR_ROW_STATUS_PTR
        sql = b"SELECT OrderId, Channel FROM Orders ORDER BY OrderId"
        self.assertEqual(lib.SQLExecDirect(stmt, sql, len(sql)), 0)
        self.assertEqual(lib.SQLBindCol(stmt, 1, -25, ids, 8, ids_ind), 0)  # SQL_C_SBIGINT
        self.assertEqual(lib.SQLBindCol(stmt, 2, 1, chans, width, chans_ind), 0)  # SQL_C_CHAR
        rows, sizes = [], []
        while True:
            rc = lib.SQLFetch(stmt)
            if rc == 100:  # SQL_NO_DATA
                break
            self.assertIn(rc, (0, 1))
            sizes.append(fetched.value)
            for i in range(fetched.value):
                self.assertEqual(status[i], 0)  # SQL_ROW_SUCCESS
                text = None if chans_ind[i] == -1 else chans[i * width:(i + 1) * width].split(b"\0")[0].decode()
                rows.append((ids[i], text))
        self.assertEqual(sizes, [5, 5, 2])
        self.assertEqual(rows, [(r["OrderId"], r["Channel"]) for r in sorted(ORDERS, key=lambda r: r["OrderId"])])

    @staticmethod
    def diag(ctypes, lib, stmt):
        state, native, msg = ctypes.create_string_buffer(6), ctypes.c_int32(), ctypes.create_string_buffer(512)
        lib.SQLGetDiagRec(3, stmt, 1, state, ctypes.byref(native), msg, 512, None)
        return (state.value + b" " + msg.value).decode()

    def test_row_wise_binding_with_offset(self):
        ctypes, lib, stmt = self.odbc()

        class Rec(ctypes.Structure):
            _fields_ = [("qty", ctypes.c_int32), ("qty_ind", ctypes.c_int64),
                        ("price", ctypes.c_double), ("price_ind", ctypes.c_int64)]
        n = 4
        recs = (Rec * (n + 1))()  # one spare record: the offset below shifts every row by one
        offset = ctypes.c_int64(ctypes.sizeof(Rec))
        fetched = ctypes.c_uint64()
        lib.SQLSetStmtAttr(stmt, 27, ctypes.c_void_p(n), 0)  # SQL_ATTR_ROW_ARRAY_SIZE
        lib.SQLSetStmtAttr(stmt, 5, ctypes.c_void_p(ctypes.sizeof(Rec)), 0)  # SQL_ATTR_ROW_BIND_TYPE
        lib.SQLSetStmtAttr(stmt, 23, ctypes.byref(offset), 0)  # SQL_ATTR_ROW_BIND_OFFSET_PTR
        lib.SQLSetStmtAttr(stmt, 26, ctypes.byref(fetched), 0)
        sql = b"SELECT Quantity, Price, OrderId FROM Orders ORDER BY OrderId LIMIT 4"
        self.assertEqual(lib.SQLExecDirect(stmt, sql, len(sql)), 0)
        lib.SQLBindCol(stmt, 1, 4, ctypes.byref(recs, Rec.qty.offset), 4,  # SQL_C_SLONG
                       ctypes.byref(recs, Rec.qty_ind.offset))
        lib.SQLBindCol(stmt, 2, 8, ctypes.byref(recs, Rec.price.offset), 8,  # SQL_C_DOUBLE
                       ctypes.byref(recs, Rec.price_ind.offset))
        self.assertEqual(lib.SQLFetch(stmt), 0, self.diag(ctypes, lib, stmt))
        self.assertEqual(fetched.value, 4)
        got = [(r.qty, None if r.price_ind == -1 else r.price) for r in recs[1:]]
        first = sorted(ORDERS, key=lambda r: r["OrderId"])[:4]
        self.assertEqual(got, [(r["Quantity"], r["Price"]) for r in first])
        self.assertEqual((recs[0].qty, recs[0].qty_ind), (0, 0))  # the offset kept record 0 untouched

    def test_prepare_describe_then_execute(self):
        # As tools that describe a statement before running it (SQLPrepare, SQLNumResultCols, SQLDescribeCol,
        # then SQLExecute): the description runs the query and SQLExecute returns that result.
        ctypes, lib, stmt = self.odbc()
        sql = b"SELECT Region, COUNT(*) AS n FROM Orders GROUP BY Region ORDER BY Region"
        self.assertEqual(lib.SQLPrepare(stmt, sql, len(sql)), 0)
        ncols = ctypes.c_int16()
        self.assertEqual(lib.SQLNumResultCols(stmt, ctypes.byref(ncols)), 0)
        self.assertEqual(ncols.value, 2)
        name, namelen, dtype = ctypes.create_string_buffer(32), ctypes.c_int16(), ctypes.c_int16()
        size, digits, nullable = ctypes.c_uint64(), ctypes.c_int16(), ctypes.c_int16()
        self.assertEqual(lib.SQLDescribeCol(stmt, 2, name, 32, ctypes.byref(namelen), ctypes.byref(dtype),
                                            ctypes.byref(size), ctypes.byref(digits), ctypes.byref(nullable)), 0)
        self.assertEqual((name.value, dtype.value), (b"n", -5))  # SQL_BIGINT
        self.assertEqual(lib.SQLExecute(stmt), 0)
        counts = Counter(r["Region"] for r in ORDERS)
        got = []
        buf, ind, n = ctypes.create_string_buffer(32), ctypes.c_int64(), ctypes.c_int64()
        while lib.SQLFetch(stmt) == 0:
            lib.SQLGetData(stmt, 1, 1, buf, 32, ctypes.byref(ind))
            lib.SQLGetData(stmt, 2, -25, ctypes.byref(n), 8, ctypes.byref(ind))
            got.append((buf.value.decode(), n.value))
        self.assertEqual(got, sorted(counts.items()))
        # Executed again, the prepared statement runs again.
        self.assertEqual(lib.SQLFreeStmt(stmt, 0), 0)  # SQL_CLOSE
        self.assertEqual(lib.SQLExecute(stmt), 0)
        self.assertEqual(lib.SQLFetch(stmt), 0)

    def test_get_data_in_pieces(self):
        ctypes, lib, stmt = self.odbc()
        sql = b"SELECT Manager FROM Regions WHERE Region = 'West'"
        self.assertEqual(lib.SQLExecDirect(stmt, sql, len(sql)), 0)
        self.assertEqual(lib.SQLFetch(stmt), 0)
        buf, ind = ctypes.create_string_buffer(4), ctypes.c_int64()
        pieces, codes = [], []
        while True:
            rc = lib.SQLGetData(stmt, 1, 1, buf, 4, ctypes.byref(ind))
            codes.append(rc)
            if rc == 100:
                break
            pieces.append(buf.value.decode())
        self.assertEqual("".join(pieces), "Dev, Jr.")
        self.assertEqual(codes, [1, 1, 0, 100])  # 01004 truncation twice, then the rest, then no more data
        self.assertEqual(lib.SQLFetch(stmt), 100)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Stream(OdbcTest):
    sim_args = ()
    app = "demo-large"

    def test_million_rows_streamed_with_bounded_memory(self):
        conn = self.connect()
        cur = conn.cursor()
        start_rss = rss_mb()
        t0 = time.monotonic()
        cur.execute("SELECT OrderId, Sales FROM Orders")
        n = 0
        ids = 0
        peak = start_rss
        while True:
            rows = cur.fetchmany(10000)
            if not rows:
                break
            n += len(rows)
            ids += sum(r[0] for r in rows)
            peak = max(peak, rss_mb())
        elapsed = time.monotonic() - t0
        self.assertEqual(n, 1000000)
        self.assertEqual(ids, 1000000 * 1000001 // 2)  # every OrderId 1..1,000,000 once
        growth = peak - start_rss
        print("odbc stream: %d rows in %.2f s (%.0f rows/s); client RSS %.1f MB -> peak %.1f MB (+%.1f MB)"
              % (n, elapsed, n / elapsed, start_rss, peak, growth))
        # The whole result held at once would be far beyond this (1,000,000 Python rows alone take >150 MB).
        self.assertLess(growth, 100)

    def test_cancel_mid_stream(self):
        conn = self.connect()
        cur = conn.cursor()
        cur.execute("SELECT OrderId FROM Orders")
        got_first = threading.Event()
        outcome = {}

        def reader():
            n = 0
            try:
                while True:
                    row = cur.fetchone()
                    if row is None:
                        break
                    n += 1
                    if n == 1:
                        got_first.set()
                outcome["rows"] = n
            except Exception as e:  # noqa: BLE001 - the cancel's error is what we wait for
                outcome["error"] = e
                outcome["rows"] = n
            got_first.set()

        t = threading.Thread(target=reader)
        t.start()
        got_first.wait()
        cur.cancel()
        t.join()
        self.assertIn("error", outcome, "the whole result arrived before the cancel")
        # HY008 when the cancel lands while SQLFetch waits for rows; when it lands between two fetches,
        # unixODBC's driver manager closes the cursor after the driver's SQLCancel (its ODBC 2 behaviour), and
        # the next fetch gets its HY010 (function sequence error).
        self.assertIn(outcome["error"].args[0], ("HY008", "HY010"), str(outcome["error"]))
        self.assertLess(outcome["rows"], 1000000)
        # The connection goes on working.
        self.assertEqual(conn.cursor().execute("SELECT COUNT(*) FROM Regions").fetchone()[0], 6)


class Timeout(OdbcTest):
    sim_args = ("--calc-delay-ms", "3000")
    app = "demo"

    def test_query_timeout(self):
        conn = self.connect()
        conn.timeout = 1
        st, msg = self.sqlstate(lambda: conn.cursor().execute("SELECT Region FROM Regions"))
        self.assertEqual(st, "HYT00")


def all_tests():
    names = []
    for cls in (Isql, PyOdbc, Auth, Objects, BlockCursor, Stream, Timeout):
        for m in sorted(dir(cls)):
            if m.startswith("test_"):
                names.append("%s.%s" % (cls.__name__, m))
    return names


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(all_tests()))
        sys.exit(0)
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[1:]])
