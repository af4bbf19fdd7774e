// The client-matrix workload for MariaDB Connector/J (see main.rs beside this file).
//
// Usage: java -cp <dir>:mariadb-java-client.jar Workload MODE PORT TAG
//   MODE: text (client-side prepared statements: the driver sends COM_QUERY)
//       | prepared (useServerPrepStmts=true: COM_STMT_PREPARE / COM_STMT_EXECUTE)
//
// Prints the normalized transcript on stdout; a step that fails prints `<step> ERROR <code>`
// (the message goes to stderr) and the workload goes on with the next step.

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public class Workload {
    static PrintStream out;
    static Connection conn;
    static int tag;
    static String[] names;
    static long[] phones;
    static Map<String, Long> ids = new HashMap<>();

    interface Step {
        void run() throws Exception;
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder("x");
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    static String norm(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof byte[]) {
            return hex((byte[]) v);
        }
        if (v instanceof Timestamp) {
            return ((Timestamp) v).toLocalDateTime()
                .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
        }
        if (v instanceof LocalDateTime) {
            return ((LocalDateTime) v).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
        }
        if (v instanceof BigDecimal) {
            return ((BigDecimal) v).toPlainString();
        }
        return v.toString();
    }

    static PreparedStatement prepare(String sql, Object... params) throws SQLException {
        PreparedStatement ps = conn.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS);
        for (int i = 0; i < params.length; i++) {
            Object p = params[i];
            if (p == null) {
                ps.setNull(i + 1, Types.VARCHAR);
            } else if (p instanceof Long) {
                ps.setLong(i + 1, (Long) p);
            } else if (p instanceof String) {
                ps.setString(i + 1, (String) p);
            } else if (p instanceof LocalDateTime) {
                ps.setTimestamp(i + 1, Timestamp.valueOf((LocalDateTime) p));
            } else if (p instanceof BigDecimal) {
                ps.setBigDecimal(i + 1, (BigDecimal) p);
            } else if (p instanceof byte[]) {
                ps.setBytes(i + 1, (byte[]) p);
            } else {
                throw new IllegalArgumentException("parameter type " + p.getClass());
            }
        }
        return ps;
    }

    static List<String> rows(String sql, Object... params) throws SQLException {
        List<String> lines = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, params); ResultSet rs = ps.executeQuery()) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder line = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    if (i > 1) {
                        line.append(' ');
                    }
                    line.append(norm(rs.getObject(i)));
                }
                lines.add(line.toString());
            }
        }
        return lines;
    }

    static void print(String prefix, List<String> lines) {
        for (String l : lines) {
            out.println(prefix + l);
        }
    }

    static void unsharded() throws Exception {
        print("unsharded ", rows("SELECT id, name FROM commerce.product ORDER BY id"));
    }

    static void insert() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (PreparedStatement ps = prepare("INSERT INTO person (name, phone) VALUES (?, ?)",
                    names[i], phones[i])) {
                int count = ps.executeUpdate();
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    keys.next();
                    long id = keys.getLong(1);
                    ids.put(names[i], id);
                    out.println("insert " + names[i] + " id=" + id + " rows=" + count);
                }
            }
        }
    }

    static void reads() throws Exception {
        for (String name : names) {
            if (ids.containsKey(name)) {
                print("by_id ", rows("SELECT id, name, phone FROM person WHERE id = ?", ids.get(name)));
            }
        }
        for (String name : names) {
            print("by_name ", rows("SELECT id, name, phone FROM person WHERE name = ?", name));
        }
        for (long phone : phones) {
            print("by_phone ", rows("SELECT id, name, phone FROM person WHERE phone = ?", phone));
        }
    }

    static void rollback() throws Exception {
        String name = "p" + tag + "tx";
        long phone = 5550000L + tag * 10L + 9;
        String inside;
        conn.setAutoCommit(false);
        try {
            try (PreparedStatement ps = prepare("INSERT INTO person (name, phone) VALUES (?, ?)", name, phone)) {
                ps.executeUpdate();
            }
            inside = rows("SELECT COUNT(*) FROM person WHERE name = ?", name).get(0);
        } finally {
            conn.rollback();
            conn.setAutoCommit(true);
        }
        String after = rows("SELECT COUNT(*) FROM person WHERE name = ?", name).get(0);
        String byPhone = rows("SELECT COUNT(*) FROM person WHERE phone = ?", phone).get(0);
        out.println("rollback inside=" + inside + " after=" + after + " by_phone=" + byPhone);
    }

    static Object[][] typedRows() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        return new Object[][] {
            {tag * 10L + 1, null, "Zoë ✓ 日本 😀", LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123456000),
                new BigDecimal("12345.6789"), all},
            {tag * 10L + 2, "n", "", LocalDateTime.of(1999, 12, 31, 23, 59, 59, 1000),
                new BigDecimal("-0.0001"), new byte[0]},
        };
    }

    static void typed() throws Exception {
        for (Object[] row : typedRows()) {
            try (PreparedStatement ps = prepare(
                    "INSERT INTO typed (id, note, uni, ts, amount, data) VALUES (?, ?, ?, ?, ?, ?)", row)) {
                ps.executeUpdate();
            }
        }
        for (Object[] row : typedRows()) {
            print("typed ", rows("SELECT id, note, uni, ts, amount, data FROM typed WHERE id = ?", row[0]));
        }
    }

    static void scatter() throws Exception {
        MessageDigest h = MessageDigest.getInstance("SHA-256");
        int n = 0;
        try (PreparedStatement ps = prepare("SELECT id, name, payload FROM big ORDER BY id");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String line = rs.getLong(1) + "|" + rs.getString(2) + "|" + hex(rs.getBytes(3)).substring(1) + "\n";
                h.update(line.getBytes(StandardCharsets.UTF_8));
                n++;
            }
        }
        StringBuilder digest = new StringBuilder();
        for (byte b : h.digest()) {
            digest.append(String.format("%02x", b & 0xff));
        }
        out.println("scatter rows=" + n + " sha256=" + digest);
    }

    static void duplicates() throws Exception {
        Object[][] cases = {
            {"dup_pk", "INSERT INTO typed (id, note) VALUES (?, ?)", new Object[] {tag * 10L + 1, "again"}},
            {"dup_phone", "INSERT INTO person (name, phone) VALUES (?, ?)",
                new Object[] {"p" + tag + "dup", phones[0]}},
        };
        for (Object[] c : cases) {
            try (PreparedStatement ps = prepare((String) c[1], (Object[]) c[2])) {
                ps.executeUpdate();
                out.println(c[0] + " no error");
            } catch (SQLException e) {
                out.println(c[0] + " errno=" + e.getErrorCode());
                if (e.getErrorCode() != 1062) {
                    System.err.println(c[0] + ": " + e.getMessage());
                }
            }
        }
    }

    static void afterError() throws Exception {
        String a = rows("SELECT COUNT(*) FROM person WHERE name = ?", names[0]).get(0);
        String dup = rows("SELECT COUNT(*) FROM person WHERE name = ?", "p" + tag + "dup").get(0);
        out.println("after_error a=" + a + " dup=" + dup);
    }

    static void step(String name, Step s) throws Exception {
        try {
            s.run();
        } catch (SQLException e) {
            out.println(name + " ERROR " + e.getErrorCode());
            System.err.println(name + ": " + e);
        }
    }

    public static void main(String[] args) throws Exception {
        out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String mode = args[0];
        int port = Integer.parseInt(args[1]);
        tag = Integer.parseInt(args[2]);
        names = new String[] {"p" + tag + "a", "Zoë" + tag, "p" + tag + "c"};
        phones = new long[] {5550000L + tag * 10L + 1, 5550000L + tag * 10L + 2, 5550000L + tag * 10L + 3};
        String url = "jdbc:mariadb://127.0.0.1:" + port + "/customer?user=app&password=secret"
            + "&useServerPrepStmts=" + mode.equals("prepared");
        conn = DriverManager.getConnection(url);
        step("unsharded", Workload::unsharded);
        step("insert", Workload::insert);
        step("reads", Workload::reads);
        step("rollback", Workload::rollback);
        step("typed", Workload::typed);
        step("scatter", Workload::scatter);
        step("duplicates", Workload::duplicates);
        step("after_error", Workload::afterError);
        conn.close();
        out.println("done");
    }
}
