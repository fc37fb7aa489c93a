"""Trade management shared by the simulator and the live engine: stops, trailing, targets, exits."""
