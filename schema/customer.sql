-- Schema of the example `customer` keyspace (sharded by hash of user.id), applied on every
-- shard by `shardgate local` at start.
CREATE TABLE IF NOT EXISTS user (
  id BIGINT NOT NULL,
  name VARCHAR(255),
  phone BIGINT,
  email VARCHAR(255),
  PRIMARY KEY (id),
  UNIQUE KEY phone (phone)
);
