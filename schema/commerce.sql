-- Schema of the example `commerce` keyspace (unsharded), applied by `shardgate local` at start.
-- user_seq is the Vitess-shaped sequence that gives customer.user its ids.
CREATE TABLE IF NOT EXISTS user_seq (
  id INT NOT NULL,
  next_id BIGINT,
  cache BIGINT,
  PRIMARY KEY (id)
) COMMENT 'vitess_sequence';
INSERT IGNORE INTO user_seq (id, next_id, cache) VALUES (0, 1, 100);
CREATE TABLE IF NOT EXISTS product (
  sku VARCHAR(32) NOT NULL,
  description VARCHAR(128),
  price BIGINT,
  PRIMARY KEY (sku)
);
