<?php
// The client-matrix workload for PHP (see main.rs beside this file).
//
// Usage: php workload.php DRIVER MODE PORT TAG
//   DRIVER: mysqli | pdo
//   MODE:   text (mysqli: escaped literals via real_escape_string; PDO: emulated prepares)
//         | prepared (mysqli::prepare; PDO with ATTR_EMULATE_PREPARES off: server-side)
//
// Prints the normalized transcript on stdout; a step that fails prints `<step> ERROR <code>`
// (the message goes to stderr) and the workload goes on with the next step.

[, $driver, $mode, $port, $tag] = $argv;
$port = (int) $port;
foreach (['mysqli', 'pdo_mysql'] as $ext) {
    if (!extension_loaded($ext)) {
        fwrite(STDERR, "PHP extension $ext is not installed: run scripts/test (ensure_client_matrix)\n");
        exit(1);
    }
}
$tag = (int) $tag;

final class DbError extends Exception {
    public int $errno;
    public function __construct(int $errno, string $message) {
        parent::__construct($message);
        $this->errno = $errno;
    }
}

// One connection: q($sql, $params) returns rows (lists of values) or ['id' => insert id,
// 'rows' => affected rows]; errors are DbError with the server's code.
final class Db {
    private $mysqli;
    private $pdo;

    public function __construct(private string $driver, private string $mode, int $port) {
        if ($driver === 'mysqli') {
            mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
            $this->mysqli = new mysqli('127.0.0.1', 'app', 'secret', 'customer', $port);
            $this->mysqli->set_charset('utf8mb4');
        } elseif ($driver === 'pdo') {
            $this->pdo = new PDO("mysql:host=127.0.0.1;port=$port;dbname=customer;charset=utf8mb4",
                'app', 'secret', [
                    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                    PDO::ATTR_EMULATE_PREPARES => $mode === 'text',
                    PDO::ATTR_STRINGIFY_FETCHES => false,
                ]);
        } else {
            throw new Exception("unknown driver $driver");
        }
    }

    public function q(string $sql, array $params = []) {
        try {
            return $this->driver === 'mysqli' ? $this->mysqliQuery($sql, $params) : $this->pdoQuery($sql, $params);
        } catch (mysqli_sql_exception $e) {
            throw new DbError($e->getCode(), $e->getMessage());
        } catch (PDOException $e) {
            throw new DbError((int) ($e->errorInfo[1] ?? 0), $e->getMessage());
        }
    }

    private function mysqliQuery(string $sql, array $params) {
        $m = $this->mysqli;
        if ($this->mode === 'text') {
            // Each ? becomes a literal, escaped as applications do with real_escape_string.
            $parts = explode('?', $sql);
            $text = array_shift($parts);
            foreach ($parts as $i => $part) {
                $p = $params[$i] instanceof Blob ? $params[$i]->bytes : $params[$i];
                $text .= ($p === null ? 'NULL' : (is_int($p) ? (string) $p : "'" . $m->real_escape_string($p) . "'")) . $part;
            }
            $result = $m->query($text);
            if ($result === true) {
                return ['id' => $m->insert_id, 'rows' => $m->affected_rows];
            }
            return $result->fetch_all(MYSQLI_NUM);
        }
        $st = $m->prepare($sql);
        if ($params) {
            $types = '';
            foreach ($params as $p) {
                $types .= is_int($p) ? 'i' : (($p instanceof Blob) ? 'b' : 's');
            }
            $values = array_map(fn($p) => $p instanceof Blob ? null : $p, $params);
            $st->bind_param($types, ...$values);
            foreach ($params as $i => $p) {
                if ($p instanceof Blob) {
                    $st->send_long_data($i, $p->bytes);
                }
            }
        }
        $st->execute();
        $result = $st->get_result();
        if ($result === false) {
            $out = ['id' => $st->insert_id, 'rows' => $st->affected_rows];
            $st->close();
            return $out;
        }
        $rows = $result->fetch_all(MYSQLI_NUM);
        $st->close();
        return $rows;
    }

    private function pdoQuery(string $sql, array $params) {
        $st = $this->pdo->prepare($sql);
        foreach ($params as $i => $p) {
            if ($p === null) {
                $st->bindValue($i + 1, null, PDO::PARAM_NULL);
            } elseif (is_int($p)) {
                $st->bindValue($i + 1, $p, PDO::PARAM_INT);
            } elseif ($p instanceof Blob) {
                $st->bindValue($i + 1, $p->bytes, PDO::PARAM_LOB);
            } else {
                $st->bindValue($i + 1, $p, PDO::PARAM_STR);
            }
        }
        $st->execute();
        if ($st->columnCount() === 0) {
            return ['id' => (int) $this->pdo->lastInsertId(), 'rows' => $st->rowCount()];
        }
        return $st->fetchAll(PDO::FETCH_NUM);
    }

    public function begin() {
        $this->driver === 'mysqli' ? $this->mysqli->begin_transaction() : $this->pdo->beginTransaction();
    }

    public function rollback() {
        $this->driver === 'mysqli' ? $this->mysqli->rollback() : $this->pdo->rollBack();
    }
}

// Bytes bound as a BLOB (mysqli 'b' + send_long_data, PDO::PARAM_LOB); a plain string elsewhere.
final class Blob {
    public function __construct(public string $bytes) {}
}

function out(string $line): void {
    echo $line, "\n";
}

function norm($v): string {
    return $v === null ? 'NULL' : (string) $v;
}

function line(array $row): string {
    return implode(' ', array_map('norm', $row));
}

$db = new Db($driver, $mode, $port);
$names = ["p{$tag}a", "Zoë{$tag}", "p{$tag}c"];
$phones = [5550000 + $tag * 10 + 1, 5550000 + $tag * 10 + 2, 5550000 + $tag * 10 + 3];
$ids = [];
$all = '';
for ($i = 0; $i < 256; $i++) {
    $all .= chr($i);
}
$typed = [
    [$tag * 10 + 1, null, 'Zoë ✓ 日本 😀', '2024-02-29 13:14:15.123456', '12345.6789', new Blob($all)],
    [$tag * 10 + 2, 'n', '', '1999-12-31 23:59:59.000001', '-0.0001', new Blob('')],
];
// BLOB columns come back as strings of bytes: they are printed in hex. The typed query's sixth
// column and the scatter's payload are the only binary columns.
$steps = [
    'unsharded' => function () use ($db) {
        foreach ($db->q('SELECT id, name FROM commerce.product ORDER BY id') as $r) {
            out('unsharded ' . line($r));
        }
    },
    'insert' => function () use ($db, $names, $phones, &$ids) {
        foreach ($names as $i => $name) {
            $res = $db->q('INSERT INTO person (name, phone) VALUES (?, ?)', [$name, $phones[$i]]);
            $ids[$name] = $res['id'];
            out("insert $name id={$res['id']} rows={$res['rows']}");
        }
    },
    'reads' => function () use ($db, $names, $phones, &$ids) {
        foreach ($names as $name) {
            if (isset($ids[$name])) {
                foreach ($db->q('SELECT id, name, phone FROM person WHERE id = ?', [$ids[$name]]) as $r) {
                    out('by_id ' . line($r));
                }
            }
        }
        foreach ($names as $name) {
            foreach ($db->q('SELECT id, name, phone FROM person WHERE name = ?', [$name]) as $r) {
                out('by_name ' . line($r));
            }
        }
        foreach ($phones as $phone) {
            foreach ($db->q('SELECT id, name, phone FROM person WHERE phone = ?', [$phone]) as $r) {
                out('by_phone ' . line($r));
            }
        }
    },
    'rollback' => function () use ($db, $tag) {
        $name = "p{$tag}tx";
        $phone = 5550000 + $tag * 10 + 9;
        $db->begin();
        try {
            $db->q('INSERT INTO person (name, phone) VALUES (?, ?)', [$name, $phone]);
            $inside = $db->q('SELECT COUNT(*) FROM person WHERE name = ?', [$name])[0][0];
        } finally {
            $db->rollback();
        }
        $after = $db->q('SELECT COUNT(*) FROM person WHERE name = ?', [$name])[0][0];
        $byPhone = $db->q('SELECT COUNT(*) FROM person WHERE phone = ?', [$phone])[0][0];
        out("rollback inside=$inside after=$after by_phone=$byPhone");
    },
    'typed' => function () use ($db, $typed) {
        foreach ($typed as $row) {
            $db->q('INSERT INTO typed (id, note, uni, ts, amount, data) VALUES (?, ?, ?, ?, ?, ?)', $row);
        }
        foreach ($typed as $row) {
            foreach ($db->q('SELECT id, note, uni, ts, amount, data FROM typed WHERE id = ?', [$row[0]]) as $r) {
                $r[5] = $r[5] === null ? null : 'x' . bin2hex($r[5]);
                out('typed ' . line($r));
            }
        }
    },
    'scatter' => function () use ($db) {
        $h = hash_init('sha256');
        $n = 0;
        foreach ($db->q('SELECT id, name, payload FROM big ORDER BY id') as [$id, $name, $payload]) {
            hash_update($h, "$id|$name|" . bin2hex($payload) . "\n");
            $n++;
        }
        out("scatter rows=$n sha256=" . hash_final($h));
    },
    'duplicates' => function () use ($db, $tag, $phones) {
        $cases = [
            ['dup_pk', 'INSERT INTO typed (id, note) VALUES (?, ?)', [$tag * 10 + 1, 'again']],
            ['dup_phone', 'INSERT INTO person (name, phone) VALUES (?, ?)', ["p{$tag}dup", $phones[0]]],
        ];
        foreach ($cases as [$what, $sql, $params]) {
            try {
                $db->q($sql, $params);
                out("$what no error");
            } catch (DbError $e) {
                out("$what errno={$e->errno}");
                if ($e->errno !== 1062) {
                    fwrite(STDERR, "$what: {$e->getMessage()}\n");
                }
            }
        }
    },
    'after_error' => function () use ($db, $names, $tag) {
        $a = $db->q('SELECT COUNT(*) FROM person WHERE name = ?', [$names[0]])[0][0];
        $dup = $db->q('SELECT COUNT(*) FROM person WHERE name = ?', ["p{$tag}dup"])[0][0];
        out("after_error a=$a dup=$dup");
    },
];
foreach ($steps as $name => $step) {
    try {
        $step();
    } catch (DbError $e) {
        out("$name ERROR {$e->errno}");
        fwrite(STDERR, "$name: {$e->getMessage()}\n");
    }
}
out('done');
