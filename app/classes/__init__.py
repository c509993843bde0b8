"""A live class: the teacher steps, students follow, the class answers."""
