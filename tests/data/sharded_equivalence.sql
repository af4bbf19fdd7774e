# Queries of tests/sharded_equivalence/, run in file order through the proxy (keyspace `customer`,
# 4 shards, hash on user.id / orders.user_id, reference table country) and on one plain database
# holding the same data.
#
# One statement per line: `<tag> <sql>`. Tags:
#   ok      must give the same result as the reference database (rows, or affected rows for DML,
#           or the same error code when the reference database fails too)
#   ci      like ok, but every value is lowercased before comparing: for results where MySQL
#           itself may show either of two collation-equal spellings ('Paris' / 'PARIS'), e.g.
#           GROUP BY / DISTINCT / MIN / MAX on a _ci text column
#   refuse  a construct the proxy may refuse with 1235 (issue 3: it cannot always compute it
#           exactly across shards); an identical answer passes too, any other error or a
#           different answer fails. A refused DML is not run on the reference database.
#   gap     (gap-ci, gap-prep) a construct issue 3 requires but the planner still refuses with
#           1235: passes when refused or identical, never when different. Turn into ok/ci/prep
#           when the planner handles it (HAVING and SELECT * with ORDER BY on scatter queries,
#           LIMIT ? on scatter queries).
#   prep    like ok, but run as a prepared statement (binary protocol) on both sides; the
#           parameters follow ` :: `, comma-separated integers or 'strings'
# A top-level ORDER BY is compared in order (every ORDER BY here ends in a unique key, so the
# order is fully determined); everything else is compared as a multiset of rows.
# `{user.COL:ID}` is replaced by the SQL literal of that column of the generated user ID. A few
# statements name order ids of the fixed-seed data set (e.g. order 62 belongs to user 2); with
# other data they still run, they only return fewer rows.
# `customer.` and `commerce.` qualifiers become the reference database's name there.
# Lines starting with `#` and blank lines are ignored.

# --- point selects on the primary vindex (EqualUnique) ---
ok SELECT * FROM user WHERE id = 1
ok SELECT * FROM user WHERE id = 2
ok SELECT * FROM user WHERE id = 17
ok SELECT * FROM user WHERE id = 64
ok SELECT * FROM user WHERE id = 100
ok SELECT * FROM user WHERE id = 120
ok SELECT * FROM user WHERE id = 121
ok SELECT * FROM user WHERE id = 0
ok SELECT * FROM user WHERE id = -1
ok SELECT * FROM user WHERE id = -42
ok SELECT * FROM user WHERE id = 9223372036854775807
ok SELECT * FROM user WHERE id = '7'
ok SELECT * FROM user WHERE 33 = id
ok SELECT id, name FROM user WHERE id = 8 AND age > 0
ok SELECT id, name, city FROM user WHERE id = 9 AND city IS NOT NULL
ok SELECT name, age FROM user WHERE id = 10
ok SELECT id, balance, created FROM user WHERE id = 11
ok select id, name from user where ID = 16
ok SELECT * FROM user WHERE id = NULL
ok SELECT * FROM user WHERE id = 5 AND id = 6
ok SELECT * FROM customer.user WHERE id = 12
ok SELECT customer.user.name FROM customer.user WHERE customer.user.id = 13
ok SELECT u.name FROM user AS u WHERE u.id = 14
ok SELECT `id`, `name` FROM `user` WHERE `id` = 15
ok SELECT * FROM orders WHERE user_id = 1
ok SELECT * FROM orders WHERE user_id = 3 ORDER BY id
ok SELECT id, amount FROM orders WHERE user_id = 50 ORDER BY amount DESC, id
ok SELECT * FROM orders WHERE user_id = 9223372036854775807
ok SELECT * FROM orders WHERE id = 10
ok SELECT * FROM orders WHERE id = 500

# --- IN and tuple IN on the primary vindex ---
ok SELECT * FROM user WHERE id IN (1, 2, 3)
ok SELECT id, name FROM user WHERE id IN (4, 40, 400, 4000)
ok SELECT id FROM user WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
ok SELECT id, age FROM user WHERE id IN (5)
ok SELECT * FROM user WHERE id IN (-1, -42, 0, 9223372036854775807)
ok SELECT id FROM user WHERE id IN (1, 1, 2, 2)
ok SELECT id FROM user WHERE id IN (1, NULL, 3)
ok SELECT id FROM user WHERE id IN ('21', '22', 23)
ok SELECT id FROM user WHERE id IN (100, 99, 98) ORDER BY id DESC
ok SELECT id, name FROM user WHERE id IN (30, 31, 32, 33) AND age > 30
ok SELECT COUNT(*) FROM user WHERE id IN (1, 2, 3, 123456789)
ok SELECT id FROM user WHERE id = 1 OR id = 2 OR id = 70
ok SELECT id FROM user WHERE id IN (1, 2) AND id IN (2, 3)
ok SELECT id FROM user WHERE id NOT IN (1, 2, 3) AND id < 10
ok SELECT id FROM user WHERE id IN (123456789, 123456790)
ok SELECT * FROM orders WHERE user_id IN (1, 2, 3) ORDER BY id
ok SELECT id, user_id, amount FROM orders WHERE user_id IN (10, 20, 30, 40, 50) ORDER BY user_id, id
ok SELECT user_id, COUNT(*) FROM orders WHERE user_id IN (1, 2, 3, 4, 5) GROUP BY user_id
ok SELECT id FROM orders WHERE id IN (1, 2, 3, 899, 900, 901)
ok SELECT id, name, age FROM user WHERE (id, age) IN ((1, {user.age:1}), (2, {user.age:2}), (3, 999))
ok SELECT id, name FROM user WHERE (id, name) IN ((4, {user.name:4}), (5, {user.name:5}), (6, 'nobody'))
ok SELECT id, city FROM user WHERE (id, city) IN ((7, {user.city:7}), (8, {user.city:8}), (9, {user.city:9}), (10, {user.city:10}))
ok SELECT id, user_id FROM orders WHERE (user_id, id) IN ((2, 62), (3, 206), (4, 40), (5, 328), (6, 1)) ORDER BY id

# --- range predicates and other scatters ---
ok SELECT * FROM user
ok SELECT id FROM user
ok SELECT * FROM orders
ok SELECT id, name FROM user WHERE id BETWEEN 10 AND 30
ok SELECT id FROM user WHERE id > 1000000
ok SELECT id FROM user WHERE id < 0
ok SELECT id, age FROM user WHERE age BETWEEN 30 AND 35
ok SELECT id, age FROM user WHERE age >= 75
ok SELECT id FROM user WHERE age IS NULL
ok SELECT id, name FROM user WHERE name IS NULL
ok SELECT id, city FROM user WHERE city IS NULL
ok SELECT id FROM user WHERE id IS NULL
ok SELECT id, name FROM user WHERE name = 'alice'
ok SELECT id, name FROM user WHERE name LIKE 'a%'
ok SELECT id, name FROM user WHERE name LIKE '%o%'
ok SELECT id, name FROM user WHERE name = 'o''brien'
ok SELECT id, name FROM user WHERE name = 'josé'
ok SELECT id, city FROM user WHERE city = 'paris'
ok SELECT id, city FROM user WHERE city IN ('Monaco', 'Lima')
ok SELECT id, balance FROM user WHERE balance < 0
ok SELECT id, balance FROM user WHERE balance > 15000.00
ok SELECT id, created FROM user WHERE created >= '2023-06-01'
ok SELECT id, created FROM user WHERE created BETWEEN '2021-01-01' AND '2021-03-31'
ok SELECT id, amount FROM orders WHERE amount > 990
ok SELECT id FROM orders WHERE amount IS NULL
ok SELECT id FROM orders WHERE status = 'refunded' AND amount < 100
ok SELECT id FROM orders WHERE status <> 'paid' AND user_id < 20
ok SELECT id FROM user WHERE id = 5 OR age = 40
ok SELECT id FROM user WHERE 1 = 0
ok SELECT id, age * 2, CONCAT(name, '@', city) FROM user WHERE age < 25
ok SELECT id, UPPER(name), LENGTH(city) FROM user WHERE id < 50
ok SELECT id, IFNULL(name, '?'), COALESCE(age, -1) FROM user WHERE id < 40
ok SELECT id, YEAR(created), MONTH(created) FROM user WHERE id > 100000
ok SELECT id, CASE WHEN age < 30 THEN 'young' ELSE 'old' END AS band FROM user WHERE id < 30
ok SELECT 1 + 1

# --- ORDER BY, LIMIT, OFFSET (merge of sorted shard streams) ---
ok SELECT id, name FROM user ORDER BY id
ok SELECT id, name FROM user ORDER BY id DESC
ok SELECT id FROM user ORDER BY id LIMIT 10
ok SELECT id FROM user ORDER BY id DESC LIMIT 10
ok SELECT id FROM user ORDER BY id LIMIT 10 OFFSET 5
ok SELECT id FROM user ORDER BY id LIMIT 5, 10
ok SELECT id FROM user ORDER BY id LIMIT 0
ok SELECT id FROM user ORDER BY id LIMIT 1000
ok SELECT id FROM user ORDER BY id LIMIT 10 OFFSET 295
ok SELECT id FROM user ORDER BY id LIMIT 10 OFFSET 1000
ok SELECT id FROM user ORDER BY id LIMIT 1
ok SELECT id, name FROM user ORDER BY name, id
ok SELECT id, name FROM user ORDER BY name DESC, id
ok SELECT id, name FROM user ORDER BY name, id LIMIT 20
ok SELECT id, name FROM user ORDER BY name DESC, id DESC LIMIT 20 OFFSET 10
ok SELECT id, age FROM user ORDER BY age, id
ok SELECT id, age FROM user ORDER BY age DESC, id
ok SELECT id, age FROM user ORDER BY age, id LIMIT 15
ok SELECT id, age FROM user ORDER BY age DESC, id DESC LIMIT 15
ok SELECT id, city FROM user ORDER BY city, id LIMIT 30
ok SELECT id, city FROM user ORDER BY city DESC, id LIMIT 30
ok SELECT id, city, age FROM user ORDER BY city, age DESC, id
ok SELECT id, balance FROM user ORDER BY balance, id LIMIT 20
ok SELECT id, balance FROM user ORDER BY balance DESC, id LIMIT 20
ok SELECT id, created FROM user ORDER BY created, id LIMIT 25
ok SELECT id, created FROM user ORDER BY created DESC, id LIMIT 25 OFFSET 25
ok SELECT name FROM user ORDER BY age, id LIMIT 10
ok SELECT name, city FROM user ORDER BY balance DESC, id LIMIT 10
ok SELECT id, age * 2 AS a2 FROM user ORDER BY a2 DESC, id LIMIT 10
ok SELECT id, name, age FROM user ORDER BY 3, 1 LIMIT 12
ok SELECT id, name FROM user WHERE age > 50 ORDER BY name, id LIMIT 10
ok SELECT id, name FROM user WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8) ORDER BY name, id LIMIT 3
ok SELECT id FROM user WHERE id = 5 ORDER BY id LIMIT 1
ok SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 10
ok SELECT id, amount FROM orders ORDER BY amount, id LIMIT 10 OFFSET 100
ok SELECT id, user_id, status FROM orders ORDER BY status, user_id, id LIMIT 40
ok SELECT id, user_id FROM orders WHERE status = 'paid' ORDER BY user_id DESC, id LIMIT 7
ok SELECT * FROM orders ORDER BY id LIMIT 3
ok SELECT id, amount FROM orders WHERE user_id = 2 ORDER BY amount, id LIMIT 2 OFFSET 1
ok SELECT * FROM user WHERE age > 70 ORDER BY age DESC, id LIMIT 5 OFFSET 2
ok SELECT * FROM orders WHERE status = 'new' ORDER BY amount DESC, id LIMIT 10
ok SELECT DISTINCT * FROM orders WHERE user_id < 5 ORDER BY id DESC
ok SELECT o.* FROM orders o JOIN user u ON u.id = o.user_id WHERE u.age < 25 ORDER BY o.amount, o.id LIMIT 10
ok SELECT *, age * 2 AS a2 FROM user ORDER BY a2 DESC, id LIMIT 6
ok SELECT * FROM user ORDER BY created, id LIMIT 4, 3
refuse SELECT id, name FROM user ORDER BY LOWER(name), id LIMIT 10

# --- aggregates without GROUP BY ---
ok SELECT COUNT(*) FROM user
ok SELECT COUNT(*) FROM orders
ok SELECT COUNT(id), COUNT(name), COUNT(age), COUNT(city) FROM user
ok SELECT COUNT(1) FROM user WHERE age > 40
ok SELECT SUM(age) FROM user
ok SELECT SUM(balance) FROM user
ok SELECT SUM(amount) FROM orders
ok SELECT SUM(id) FROM user
ok SELECT MIN(age), MAX(age) FROM user
ok SELECT MIN(id), MAX(id) FROM user
ok SELECT MIN(balance), MAX(balance) FROM user
ok SELECT MIN(created), MAX(created) FROM user
ok SELECT MIN(name), MAX(name) FROM user
ci SELECT MIN(name), MAX(name) FROM user WHERE age > 60
ci SELECT MIN(city), MAX(city) FROM user
ok SELECT MIN(amount), MAX(amount), SUM(amount), COUNT(*) FROM orders WHERE status = 'paid'
ok SELECT AVG(age) FROM user
ok SELECT AVG(balance) FROM user
ok SELECT AVG(amount) FROM orders
ok SELECT AVG(amount) FROM orders WHERE status = 'new'
ok SELECT AVG(age) FROM user WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9)
ok SELECT AVG(balance) FROM user WHERE age < 30
ok SELECT COUNT(*), SUM(age), AVG(age), MIN(age), MAX(age) FROM user WHERE city = 'Paris'
ok SELECT COUNT(*), SUM(amount), AVG(amount) FROM orders WHERE user_id = 7
ok SELECT COUNT(*) FROM user WHERE id = 5
ok SELECT COUNT(*) FROM user WHERE id = 123456789
ok SELECT COUNT(*), SUM(age), MAX(name) FROM user WHERE 1 = 0
ok SELECT COUNT(*), MIN(id), AVG(balance) FROM user WHERE id = NULL
ok SELECT MAX(amount) FROM orders WHERE user_id IN (1, 2, 3, 4)
ok SELECT SUM(amount) FROM orders WHERE amount > 500
ok SELECT COUNT(*) AS n, SUM(balance) AS total FROM user WHERE balance IS NOT NULL
ok SELECT MAX(balance) FROM user WHERE city IS NULL
ok SELECT SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END) FROM orders
ok SELECT SUM(amount * 2), COUNT(amount) FROM orders
refuse SELECT SUM(age) / COUNT(age) FROM user
refuse SELECT COUNT(*) + 1 FROM orders

# --- COUNT(DISTINCT) and SUM(DISTINCT) ---
ok SELECT COUNT(DISTINCT age) FROM user
ok SELECT COUNT(DISTINCT city) FROM user
ok SELECT COUNT(DISTINCT name) FROM user
ok SELECT COUNT(DISTINCT id) FROM user
ok SELECT COUNT(DISTINCT user_id) FROM orders
ok SELECT COUNT(DISTINCT status) FROM orders
ok SELECT COUNT(DISTINCT user_id) FROM orders WHERE amount > 500
ok SELECT COUNT(*), COUNT(DISTINCT age) FROM user
ok SELECT SUM(DISTINCT age) FROM user
ok SELECT COUNT(DISTINCT age) FROM user WHERE id = 3
ok SELECT age, COUNT(DISTINCT city) FROM user GROUP BY age
ok SELECT status, COUNT(DISTINCT user_id) FROM orders GROUP BY status
ok SELECT status, COUNT(DISTINCT user_id), SUM(amount) FROM orders GROUP BY status ORDER BY status

# --- GROUP BY ---
ok SELECT age, COUNT(*) FROM user GROUP BY age
ok SELECT age, COUNT(*) FROM user GROUP BY age ORDER BY age
ok SELECT age, COUNT(*) FROM user GROUP BY age ORDER BY age DESC
ok SELECT age, COUNT(*) FROM user GROUP BY 1 ORDER BY 1
ok SELECT COUNT(*), age FROM user GROUP BY age
ok SELECT age FROM user GROUP BY age
ok SELECT age, COUNT(*) FROM user GROUP BY age ORDER BY age LIMIT 5 OFFSET 3
ok SELECT age, COUNT(*) AS c FROM user GROUP BY age ORDER BY c DESC, age LIMIT 5
ci SELECT city, COUNT(*) FROM user GROUP BY city
ci SELECT city, COUNT(*), AVG(age) FROM user GROUP BY city ORDER BY city
ci SELECT name, COUNT(*) FROM user GROUP BY name
ci SELECT name, COUNT(*) FROM user GROUP BY name ORDER BY name
ci SELECT city, age, COUNT(*) FROM user GROUP BY city, age
ci SELECT city, age, COUNT(*) FROM user GROUP BY city, age ORDER BY city, age
ok SELECT status, COUNT(*), SUM(amount), MIN(amount), MAX(amount), AVG(amount) FROM orders GROUP BY status
ok SELECT status FROM orders GROUP BY status ORDER BY status DESC
ok SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY COUNT(*) DESC, status
ok SELECT user_id, COUNT(*), SUM(amount) FROM orders GROUP BY user_id
ok SELECT user_id, COUNT(*) FROM orders GROUP BY user_id ORDER BY user_id LIMIT 20
ok SELECT user_id, SUM(amount) AS s FROM orders GROUP BY user_id ORDER BY s DESC, user_id LIMIT 10
ok SELECT status, user_id, COUNT(*) FROM orders WHERE user_id < 30 GROUP BY status, user_id
ok SELECT id, COUNT(*) FROM user GROUP BY id ORDER BY id LIMIT 10
ok SELECT YEAR(created), COUNT(*) FROM user GROUP BY YEAR(created)
ok SELECT age, SUM(balance), AVG(balance) FROM user GROUP BY age
ok SELECT age, MIN(created), MAX(created) FROM user GROUP BY age
ok SELECT age, COUNT(*) FROM user WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) GROUP BY age
ok SELECT age, COUNT(*) FROM user WHERE id = 5 GROUP BY age
ok SELECT age, COUNT(*) FROM user WHERE 1 = 0 GROUP BY age

# --- HAVING ---
ok SELECT age, COUNT(*) FROM user GROUP BY age HAVING COUNT(*) > 5
ok SELECT age, COUNT(*) AS c FROM user GROUP BY age HAVING c >= 6 ORDER BY age
ok SELECT status, SUM(amount) FROM orders GROUP BY status HAVING SUM(amount) > 50000
ok SELECT user_id, COUNT(*) FROM orders GROUP BY user_id HAVING COUNT(*) >= 5
ok SELECT user_id, COUNT(*) AS n FROM orders GROUP BY user_id HAVING n >= 4 ORDER BY n DESC, user_id LIMIT 10
ci SELECT city, AVG(age) FROM user GROUP BY city HAVING AVG(age) > 45
ok SELECT age, MAX(balance) FROM user GROUP BY age HAVING MAX(balance) > 10000
ok SELECT age FROM user GROUP BY age HAVING MIN(id) < 50
ok SELECT status, COUNT(*) FROM orders GROUP BY status HAVING status <> 'new'
ok SELECT COUNT(*) FROM user HAVING COUNT(*) > 0
ok SELECT age, COUNT(*) FROM user WHERE id = 5 GROUP BY age HAVING COUNT(*) > 0
ok SELECT age, COUNT(*) FROM user GROUP BY age HAVING age IS NULL
ok SELECT age, COUNT(*) FROM user GROUP BY age HAVING age IS NULL OR COUNT(*) > 7 ORDER BY age DESC
ci SELECT city, COUNT(*), SUM(balance) FROM user GROUP BY city HAVING city IS NOT NULL AND SUM(balance) > 100000 ORDER BY city
ok SELECT age, AVG(balance) FROM user GROUP BY age HAVING AVG(balance) BETWEEN 5000 AND 9000.50 ORDER BY age
ok SELECT status, AVG(amount) AS a FROM orders GROUP BY status HAVING a > 480.5 ORDER BY a DESC, status
ok SELECT user_id, SUM(amount) FROM orders GROUP BY user_id HAVING SUM(amount) >= 1000.00 AND COUNT(*) < 4 ORDER BY user_id LIMIT 5 OFFSET 3
ok SELECT age, MIN(balance), MAX(balance) FROM user GROUP BY age HAVING MIN(balance) < 0 OR MAX(balance) IS NULL ORDER BY age
ok SELECT age FROM user GROUP BY age HAVING NOT (COUNT(*) BETWEEN 3 AND 6) ORDER BY age DESC LIMIT 4
ok SELECT status, COUNT(*) FROM orders GROUP BY status HAVING status IN ('new', 'paid', 'nope') ORDER BY status DESC
ok SELECT age, COUNT(*) FROM user GROUP BY age HAVING age NOT IN (20, 30, 40) AND COUNT(*) >= 5 ORDER BY COUNT(*) DESC, age LIMIT 3, 5
ok SELECT MAX(created) FROM user HAVING MAX(created) > '2023-01-01'
ok SELECT age, MAX(created) FROM user GROUP BY age HAVING MAX(created) >= '2024-01-01' ORDER BY age
ok SELECT COUNT(*), SUM(amount) FROM orders WHERE status = 'paid' HAVING SUM(amount) < 1
ok SELECT age, COUNT(DISTINCT city) FROM user GROUP BY age HAVING COUNT(DISTINCT city) >= 5 ORDER BY age
ok SELECT age, SUM(balance) FROM user GROUP BY age HAVING SUM(balance) <=> NULL ORDER BY age
ok SELECT age, COUNT(*) FROM user GROUP BY age HAVING COUNT(*) > 2.5 ORDER BY age
ok SELECT age, SUM(age) FROM user GROUP BY age HAVING SUM(age) > 300 AND age < 70 ORDER BY age
ok SELECT age, COUNT(*) AS c FROM user GROUP BY age HAVING c BETWEEN 4 AND 6 ORDER BY c, age DESC LIMIT 10 OFFSET 2
refuse SELECT age, COUNT(*) FROM user GROUP BY age HAVING COUNT(*) + 1 > 6
refuse SELECT city, COUNT(*) FROM user GROUP BY city HAVING city LIKE 'P%'

# --- DISTINCT ---
ok SELECT DISTINCT age FROM user
ok SELECT DISTINCT age FROM user ORDER BY age
ok SELECT DISTINCT age FROM user ORDER BY age DESC LIMIT 5
ci SELECT DISTINCT city FROM user
ci SELECT DISTINCT city FROM user ORDER BY city
ci SELECT DISTINCT name FROM user
ci SELECT DISTINCT name FROM user ORDER BY name LIMIT 8
ci SELECT DISTINCT age, city FROM user
ok SELECT DISTINCT status FROM orders
ok SELECT DISTINCT status FROM orders ORDER BY status
ok SELECT DISTINCT user_id FROM orders WHERE amount > 900
ok SELECT DISTINCT status, user_id FROM orders WHERE user_id < 10
ok SELECT DISTINCT age FROM user WHERE id IN (1, 2, 3, 4, 5, 6, 7)
ok SELECT DISTINCT YEAR(created) AS y FROM user

# --- joins of user and orders on the primary vindex (shard-local) ---
ok SELECT u.id, u.name, o.id, o.amount FROM user u JOIN orders o ON u.id = o.user_id WHERE u.id = 5
ok SELECT u.id, o.id FROM user u JOIN orders o ON o.user_id = u.id WHERE u.id = 3
ok SELECT u.name, o.amount, o.status FROM user u JOIN orders o ON u.id = o.user_id WHERE o.user_id = 7
ok SELECT u.id, o.id FROM user u JOIN orders o ON u.id = o.user_id WHERE u.id IN (1, 2, 3, 4)
ok SELECT u.id, o.id FROM user u JOIN orders o ON o.amount > u.age * 5 WHERE u.id = 5 AND o.user_id = 5
ok SELECT u.id, o1.id, o2.id FROM user u JOIN orders o1 ON u.id = o1.user_id JOIN orders o2 ON o1.user_id = o2.user_id WHERE u.id = 2
ok SELECT u.id, o.id, o.amount FROM user u JOIN orders o ON u.id = o.user_id
ok SELECT u.id, o.id FROM user u JOIN orders o ON u.id = o.user_id WHERE o.status = 'shipped'
ok SELECT u.id, o.id FROM user u, orders o WHERE u.id = o.user_id AND u.age < 20
ok SELECT u.id, u.name, o.id, o.amount FROM user u JOIN orders o ON u.id = o.user_id ORDER BY o.amount DESC, o.id LIMIT 10
ok SELECT u.id, COUNT(o.id) FROM user u LEFT JOIN orders o ON u.id = o.user_id GROUP BY u.id
ok SELECT u.id, u.name FROM user u LEFT JOIN orders o ON u.id = o.user_id WHERE o.id IS NULL
ok SELECT u.id, o.id FROM user u LEFT JOIN orders o ON u.id = o.user_id WHERE u.id = 99
ok SELECT o.id, o.user_id FROM orders o LEFT JOIN user u ON u.id = o.user_id WHERE u.id IS NULL
ok SELECT COUNT(*) FROM user u JOIN orders o ON u.id = o.user_id
ci SELECT u.city, COUNT(*), SUM(o.amount) FROM user u JOIN orders o ON u.id = o.user_id GROUP BY u.city
ok SELECT o.status, COUNT(*), AVG(o.amount) FROM user u JOIN orders o ON u.id = o.user_id WHERE u.age > 40 GROUP BY o.status
ok SELECT u.id, SUM(o.amount) AS s FROM user u JOIN orders o ON u.id = o.user_id GROUP BY u.id ORDER BY s DESC, u.id LIMIT 5
ok SELECT DISTINCT u.age FROM user u JOIN orders o ON u.id = o.user_id WHERE o.status = 'refunded'
ok SELECT o1.id, o2.id FROM orders o1 JOIN orders o2 ON o1.user_id = o2.user_id WHERE o1.id < o2.id AND o1.user_id < 10
ok SELECT COUNT(*) FROM orders o1 JOIN orders o2 ON o1.user_id = o2.user_id

# --- the reference table, alone and joined ---
ok SELECT * FROM country
ok SELECT code, name FROM country ORDER BY code
ok SELECT COUNT(*) FROM country
ok SELECT name FROM country WHERE code = 'SG'
ok SELECT u.id, c.code FROM user u JOIN country c ON c.name = u.city WHERE u.id = 5
ok SELECT u.id, c.code FROM user u JOIN country c ON c.name = u.city WHERE u.id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
ok SELECT u.id, u.city, c.code FROM user u JOIN country c ON c.name = u.city
ok SELECT c.code, COUNT(*) FROM user u JOIN country c ON c.name = u.city GROUP BY c.code
ok SELECT u.id, c.code FROM user u LEFT JOIN country c ON c.name = u.city WHERE u.id < 30
ok SELECT c.code, SUM(o.amount) FROM user u JOIN orders o ON u.id = o.user_id JOIN country c ON c.name = u.city GROUP BY c.code
ok SELECT c.name, u.id FROM country c JOIN user u ON u.city = c.name ORDER BY c.name, u.id LIMIT 20

# --- subqueries ---
ok SELECT * FROM (SELECT id, name FROM user WHERE id = 5) t
ok SELECT u.id, (SELECT COUNT(*) FROM orders o WHERE o.user_id = u.id) FROM user u WHERE u.id = 5
ok SELECT id FROM user WHERE id = 5 AND age * 10 < (SELECT MAX(amount) FROM orders WHERE user_id = 5)
ok SELECT id FROM user u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 950)
ok SELECT id FROM user u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)
ok SELECT u.id, (SELECT MAX(o.amount) FROM orders o WHERE o.user_id = u.id) AS m FROM user u ORDER BY u.id LIMIT 15
refuse SELECT id FROM user WHERE id IN (SELECT user_id FROM orders WHERE amount > 990)
refuse SELECT id FROM user WHERE age = (SELECT MAX(age) FROM user)
refuse SELECT COUNT(*) FROM (SELECT DISTINCT city FROM user) t
refuse SELECT t.age, t.c FROM (SELECT age, COUNT(*) AS c FROM user GROUP BY age) t WHERE t.c > 5
refuse SELECT id FROM orders WHERE amount > (SELECT AVG(amount) FROM orders)

# --- joins the proxy cannot push to the shards (not on the vindex, differently sharded) ---
refuse SELECT u.id, o.id FROM user u JOIN orders o ON u.id = o.id WHERE o.id < 20
refuse SELECT u.id, o.id FROM user u JOIN orders o ON u.age = o.id
refuse SELECT COUNT(*) FROM user u JOIN orders o ON u.id = o.id
refuse SELECT o1.id, o2.id FROM orders o1 JOIN orders o2 ON o1.id = o2.user_id
refuse SELECT u1.id, u2.id FROM user u1 JOIN user u2 ON u1.age = u2.age WHERE u1.id < 5 AND u2.id < 5

# --- the unsharded keyspace next to the sharded one ---
ok SELECT * FROM commerce.promo
ok SELECT code, discount FROM commerce.promo WHERE city = 'Paris'
ok SELECT COUNT(*) FROM commerce.promo
refuse SELECT u.id, p.discount FROM customer.user u JOIN commerce.promo p ON p.city = u.city WHERE u.id < 20

# --- prepared statements (binary protocol, values bound at execute time) ---
prep SELECT * FROM user WHERE id = ? :: 5
prep SELECT * FROM user WHERE id = ? :: -1
prep SELECT * FROM user WHERE id = ? :: 9223372036854775807
prep SELECT * FROM user WHERE id = ? :: 123456789
prep SELECT * FROM user WHERE id = ? :: '6'
prep SELECT id, name FROM user WHERE id IN (?, ?, ?) :: 1, 2, 3
prep SELECT COUNT(*), SUM(amount), AVG(amount) FROM orders WHERE user_id = ? :: 7
prep SELECT id, amount FROM orders WHERE user_id = ? ORDER BY id :: 3
prep SELECT id, age FROM user WHERE age > ? ORDER BY id LIMIT 5 :: 50
prep SELECT age, COUNT(*) FROM user WHERE city = ? GROUP BY age :: 'Paris'
prep SELECT u.id, o.id FROM user u JOIN orders o ON u.id = o.user_id WHERE u.id = ? :: 2
prep SELECT status, COUNT(*), SUM(amount) FROM orders WHERE amount > ? GROUP BY status ORDER BY status :: 100
prep SELECT id, balance, created FROM user ORDER BY balance DESC, id LIMIT ? :: 4
prep SELECT id, age FROM user WHERE age > ? ORDER BY age, id LIMIT ?, ? :: 30, 5, 7
prep SELECT id, name FROM user ORDER BY name, id LIMIT ? OFFSET ? :: 6, 10
prep SELECT id FROM user WHERE city = ? ORDER BY id LIMIT 2, ? :: 'Paris', 3
prep SELECT * FROM orders WHERE amount > ? ORDER BY amount DESC, id LIMIT ?, ? :: 500, 2, 4
prep SELECT age, COUNT(*) FROM user WHERE city <> ? GROUP BY age ORDER BY COUNT(*) DESC, age LIMIT ?, ? :: 'Lima', 1, 5

# --- DML, each followed by reads of what it changed ---
ok UPDATE user SET age = age + 1 WHERE id = 7
ok SELECT id, age FROM user WHERE id = 7
ok UPDATE user SET city = 'Lima' WHERE id IN (1, 2, 3, 9223372036854775807)
ok SELECT id, city FROM user WHERE id IN (1, 2, 3, 9223372036854775807)
ok UPDATE user SET balance = balance + 1.05 WHERE age > 70
ok SELECT id, balance FROM user WHERE age > 70
ok SELECT SUM(balance), AVG(balance) FROM user
ok UPDATE user SET name = 'renamed' WHERE name = 'bob'
ok SELECT id, name FROM user WHERE name = 'renamed'
ok UPDATE orders SET status = 'archived' WHERE amount < 20
ok SELECT status, COUNT(*) FROM orders GROUP BY status
ok UPDATE orders SET amount = amount * 2 WHERE user_id = 4
ok SELECT id, amount FROM orders WHERE user_id = 4
ok UPDATE user SET age = NULL WHERE id = 8
ok SELECT id, age FROM user WHERE id = 8
ok UPDATE user SET age = 30 WHERE id = 123456789
ok UPDATE user SET age = age WHERE id = 9
prep UPDATE user SET age = ? WHERE id = ? :: 42, 6
prep SELECT id, age FROM user WHERE id = ? :: 6
ok DELETE FROM orders WHERE user_id = 12
ok SELECT COUNT(*) FROM orders WHERE user_id = 12
ok DELETE FROM orders WHERE status = 'cancelled' AND amount > 500
ok SELECT COUNT(*), SUM(amount) FROM orders
ok DELETE FROM user WHERE id IN (10, 11, -42)
ok SELECT COUNT(*) FROM user
ok DELETE FROM user WHERE age < 20
ok SELECT id FROM user ORDER BY id
ok DELETE FROM orders WHERE id = 100
ok SELECT id FROM orders WHERE id BETWEEN 95 AND 105
ok INSERT INTO user (id, name, age, city, balance, created) VALUES (5001, 'new1', 33, 'Paris', 10.50, '2024-01-01'), (5002, 'new2', NULL, NULL, NULL, NULL), (-5003, 'NEW1', 44, 'Monaco', -3.25, '2024-02-29')
ok SELECT * FROM user WHERE id IN (5001, 5002, -5003)
ok INSERT INTO orders (id, user_id, amount, status) VALUES (1001, 5001, 12.34, 'new'), (1002, 5001, 56.78, 'paid'), (1003, -5003, 0.01, 'new')
ok SELECT u.id, o.id, o.amount FROM user u JOIN orders o ON u.id = o.user_id WHERE u.id IN (5001, -5003)
ok INSERT INTO user (id, name) VALUES (1, 'dup')
ok INSERT IGNORE INTO user (id, name) VALUES (1, 'dup'), (5004, 'ignored-not')
ok INSERT INTO user (id, name, age) VALUES (2, 'x', 1) ON DUPLICATE KEY UPDATE age = age + 100
ok SELECT id, name, age FROM user WHERE id IN (1, 2, 5004)
ok REPLACE INTO user (id, name, age) VALUES (3, 'replaced', 50), (5005, 'fresh', 51)
ok SELECT id, name, age FROM user WHERE id IN (3, 5005)
prep INSERT INTO user (id, name, city) VALUES (?, ?, ?) :: 5006, 'prepared', 'Berlin'
prep SELECT id, name, city FROM user WHERE id = ? :: 5006
refuse UPDATE user SET id = 7000 WHERE id = 5
ok SELECT id FROM user WHERE id IN (5, 7000)
refuse DELETE FROM orders WHERE status = 'new' ORDER BY id LIMIT 5
ok UPDATE orders SET status = 'first' WHERE user_id = 3 ORDER BY id LIMIT 1
ok SELECT id, status FROM orders WHERE user_id = 3 ORDER BY id

# --- plan templates: text statements of one shape share a cached plan; each statement's own
#     literals route it and reach the shards exactly as written ---
ok SELECT id, name FROM user WHERE id = 3 AND name <> 'o\'brien'
ok SELECT id, name FROM user WHERE id = 4 AND name <> 'o''brien'
ok SELECT id, name FROM user WHERE name = 'o\'brien' ORDER BY id
ok SELECT id, name FROM user WHERE name = 'o''brien' ORDER BY id
ok SELECT id FROM user WHERE id IN (4, - 42, '7', 01) ORDER BY id
ok SELECT id FROM user WHERE id IN (5, 6, '8', 02) ORDER BY id
ok SELECT id, balance FROM user WHERE id = 5 AND balance >= 0.50
ok SELECT id, balance FROM user WHERE id = '6' AND balance >= 1.500
ok SELECT id FROM user WHERE id = 5.0
ok SELECT id FROM user WHERE id = 6.0
ok SELECT id FROM user WHERE id = '5abc'
ok SELECT COUNT(*) FROM user WHERE age BETWEEN 20 AND 30
ok SELECT COUNT(*) FROM user WHERE age NOT BETWEEN 31 AND 40
ok UPDATE user SET city = 'Caf\'e', balance = 1.50 WHERE id = 13
ok UPDATE user SET city = 'Caf''e2', balance = 2.5 WHERE id = 14
ok SELECT id, city, balance FROM user WHERE id IN (13, 14) ORDER BY id
ok INSERT INTO user (id, name, balance) VALUES (6001, 'tpl\'1', 1.50), (6002, 'tpl2', -0.5)
ok INSERT INTO user (id, name, balance) VALUES (6003, 'tpl3', 2.50), (-6004, 'tpl''4', 7)
ok SELECT id, name, balance FROM user WHERE id IN (6001, 6002, 6003, -6004) ORDER BY id
ok DELETE FROM user WHERE id = 6001
ok DELETE FROM user WHERE id = -6004
ok SELECT id, name FROM user WHERE id >= 6000 OR id <= -6000 ORDER BY id

# --- final state ---
ok SELECT * FROM user ORDER BY id
ok SELECT * FROM orders ORDER BY id
ok SELECT COUNT(*), COUNT(DISTINCT city), SUM(balance), AVG(age) FROM user
ok SELECT status, COUNT(*), SUM(amount), AVG(amount) FROM orders GROUP BY status ORDER BY status
