DROP INDEX orders_open_renewal;
