//! ORMs through the proxy (issue 17.1): SQLAlchemy on both its PyMySQL and
//! mysql-connector-python dialects, and Django on PyMySQL (as MySQLdb), connect (their
//! connect-time probes: version, isolation level, sql_mode, lower_case_table_names, ...),
//! create rows on a sharded table with sequence ids (both use `INSERT ... RETURNING` on the
//! MariaDB the proxy announces) and read them back by id and by a scatter filter.
//!
//! `scripts/test` installs SQLAlchemy and Django (`ensure_python_orms`); a missing one fails.

mod common;

use common::tools::run_tool;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::Queryable;
use tokio::process::Command;

const SHARDS: [&str; 2] = ["-80", "80-"];

/// `customer.item` sharded by `hash(id)` with ids from `commerce.item_seq`.
async fn start() -> TestEnv {
    let customer = serde_json::json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "item": {
                "column_vindexes": [{"column": "id", "name": "hash"}],
                "auto_increment": {"column": "id", "sequence": "commerce.item_seq"}
            }
        }
    });
    let commerce =
        serde_json::json!({"sharded": false, "tables": {"item_seq": {"type": "sequence"}}});
    let spec = EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer));
    let env = TestEnv::start(spec).await;
    let mut c = env.client().await;
    c.query_drop(
        "CREATE TABLE item_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'",
    )
    .await
    .expect("sequence");
    c.query_drop("INSERT INTO item_seq VALUES (0, 1, 100)")
        .await
        .expect("seed");
    c.query_drop("USE customer").await.expect("use");
    c.query_drop(
        "CREATE TABLE item (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT)",
    )
    .await
    .expect("table");
    drop(c.disconnect().await);
    env
}

async fn python(script: &str, port: u16) -> String {
    let (ok, out, err) = run_tool(
        Command::new("python3").args(["-c", script, &port.to_string()]),
        None,
        std::time::Duration::from_secs(120),
    )
    .await;
    assert!(ok, "python failed:\n{out}\n{err}");
    out
}

/// Rows of `customer.item` on all shards together.
async fn rows_on_shards(env: &TestEnv) -> i64 {
    let mut total = 0;
    for shard in SHARDS {
        let mut d = env.shard_conn("customer", shard).await;
        let n: i64 = d
            .query_first("SELECT COUNT(*) FROM item")
            .await
            .expect("count")
            .expect("row");
        total += n;
    }
    total
}

const SQLALCHEMY: &str = r#"
import sys
from sqlalchemy import create_engine, select, func, text, String, Integer, BigInteger
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, Session
port = int(sys.argv[1])

class Base(DeclarativeBase):
    pass

class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(20))
    qty: Mapped[int] = mapped_column(Integer, nullable=True)

for driver in ("pymysql", "mysqlconnector"):
    engine = create_engine(f"mysql+{driver}://app:secret@127.0.0.1:{port}/customer")
    with engine.connect() as conn:
        d = conn.dialect
        print(driver, "dialect", d.server_version_info[:2], "mariadb" if d.is_mariadb else "mysql",
              conn.get_isolation_level(), d.insert_returning)
        print(driver, "select", conn.execute(text("SELECT 40 + 2")).scalar())
    with Session(engine) as s:
        made = [Item(name=f"{driver}-{i}", qty=i) for i in range(3)]
        s.add_all(made)
        s.commit()
        ids = [m.id for m in made]
        print(driver, "ids", all(isinstance(i, int) and i > 0 for i in ids), len(set(ids)))
        s.expire_all()
        back = s.get(Item, ids[1])
        print(driver, "get", back.name, back.qty)
        n = s.scalar(select(func.count()).select_from(Item).where(Item.name.like(f"{driver}-%")))
        print(driver, "count", n)
    engine.dispose()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn sqlalchemy_both_dialects() {
    let env = start().await;
    let out = python(SQLALCHEMY, env.port()).await;
    for driver in ["pymysql", "mysqlconnector"] {
        // Before 17.1 the proxy said MySQL 8.0 and SQLAlchemy failed here with 1193.
        assert!(
            out.contains(&format!(
                "{driver} dialect (10, 11) mariadb REPEATABLE READ True"
            )),
            "{out}"
        );
        assert!(out.contains(&format!("{driver} select 42")), "{out}");
        assert!(out.contains(&format!("{driver} ids True 3")), "{out}");
        assert!(out.contains(&format!("{driver} get {driver}-1 1")), "{out}");
        assert!(out.contains(&format!("{driver} count 3")), "{out}");
    }
    assert_eq!(rows_on_shards(&env).await, 6);
    env.stop().await;
}

const DJANGO: &str = r#"
import sys
import pymysql
pymysql.install_as_MySQLdb()
import django
from django.conf import settings
port = int(sys.argv[1])
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.mysql", "NAME": "customer",
                           "USER": "app", "PASSWORD": "secret", "HOST": "127.0.0.1", "PORT": port}},
    INSTALLED_APPS=[], USE_TZ=True, DEFAULT_AUTO_FIELD="django.db.models.BigAutoField")
django.setup()
from django.db import connection, models, transaction

class Item(models.Model):
    name = models.CharField(max_length=20)
    qty = models.IntegerField(null=True)
    class Meta:
        app_label = "shop"
        db_table = "item"
        managed = False

connection.ensure_connection()
print("django", connection.mysql_is_mariadb, connection.mysql_version[:2],
      connection.features.can_return_columns_from_insert)
a = Item.objects.create(name="dj-a", qty=1)
b = Item.objects.create(name="dj-b")
print("created", isinstance(a.id, int) and a.id > 0, a.id != b.id)
many = Item.objects.bulk_create([Item(name=f"dj-bulk-{i}", qty=i) for i in range(4)])
print("bulk", [isinstance(m.id, int) and m.id > 0 for m in many].count(True), len({m.id for m in many}))
got = Item.objects.get(pk=a.id)
print("get", got.name, got.qty)
print("filter", sorted(Item.objects.filter(name__startswith="dj-bulk-").values_list("qty", flat=True)))
with transaction.atomic():
    Item.objects.filter(pk=b.id).update(qty=5)
print("updated", Item.objects.get(pk=b.id).qty)
print("count", Item.objects.count())
"#;

#[tokio::test(flavor = "multi_thread")]
async fn django_orm_on_a_sharded_table() {
    let env = start().await;
    let out = python(DJANGO, env.port()).await;
    assert!(out.contains("django True (10, 11) True"), "{out}");
    assert!(out.contains("created True True"), "{out}");
    assert!(out.contains("bulk 4 4"), "{out}");
    assert!(out.contains("get dj-a 1"), "{out}");
    assert!(out.contains("filter [0, 1, 2, 3]"), "{out}");
    assert!(out.contains("updated 5"), "{out}");
    assert!(out.contains("count 6"), "{out}");
    assert_eq!(rows_on_shards(&env).await, 6);
    env.stop().await;
}
