-- throughput's floor: the cap on moves in flight.
UPDATE deployment_settings SET max_in_flight = $1
