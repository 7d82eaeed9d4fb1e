#!/usr/bin/env bash
# Start MariaDB and Redis on 127.0.0.1 when they are installed but not running (tests and CI).
set -euo pipefail
if ! mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "Starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  # A package installed where no init system runs (a container) may leave no data directory.
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --skip-test-db >/dev/null
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 60); do mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
fi
mariadb-admin -h127.0.0.1 -uroot ping >/dev/null
# Debian's root account logs in by Unix socket only; the tests connect over TCP as root without a
# password (TEST_DATABASE_URL). On a fresh test machine, allow that for the loopback server.
if ! mariadb -h127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1 && mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  echo "Letting root connect to the test server over TCP (127.0.0.1 only)"
  mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')"
fi
# USE_TZ needs the time-zone tables (otherwise __date lookups silently find nothing).
if [ "$(mariadb -h127.0.0.1 -uroot -N -e 'SELECT COUNT(*) FROM mysql.time_zone_name')" = "0" ]; then
  mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb -h127.0.0.1 -uroot mysql
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null
