-- Counting a meeting's answers and listing a group's members in joining order read an index alone, so neither grows with the group on every click.
-- COUNT_ANSWERS (meetings/rsvp.py, after every answer) groups a meeting's answers: covered by
-- (meeting_id, answer). SELECT_MEMBER_IDS (groups/service.py, every whole-meeting re-plan)
-- lists a group's members by joined_at: covered, and already in order, by this index.
CREATE INDEX rsvps_meeting_answer ON rsvps (meeting_id, answer);
CREATE INDEX group_members_joined ON group_members (group_id, joined_at, user_id);
