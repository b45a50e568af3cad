"""The line PLC simulator: an OPC UA server with PackML, conveyor, reject gate and counters."""
