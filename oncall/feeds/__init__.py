"""Calendar feeds: secret iCalendar URLs for a rotation, a team or a person, always showing final shifts."""
