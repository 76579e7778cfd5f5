"""Appointment booking: staff availability, booking types, client booking links, bookings and .ics."""
