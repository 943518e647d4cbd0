"""The MySQL/MariaDB backend: dialect, pool, unit of work (the seed's ``DatabaseContext``)."""
