"""Guild scheduled events: Discord's status machine, time and entity rules, permissions and the
automatic transitions Discord applies on its own.

Source for every rule here: Discord's "Guild Scheduled Event" resource page
(https://discord.com/developers/docs/resources/guild-scheduled-event): "Valid Guild Scheduled
Event Status Transitions", "Field Requirements By Entity Type", "Guild Scheduled Event Status
Update Automation" and "Guild Scheduled Event Permissions Requirements"; error 180000 from
"Opcodes and Status Codes" → JSON Error Codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .errors import ApiError, forbidden
from .gateway import Intent
from .model import JSON, ChannelType, ScheduledEvent
from .permissions import P, base_permissions

if TYPE_CHECKING:
    from .model import Guild
    from .world import World


class EventStatus:
    SCHEDULED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELED = 4


class EntityType:
    STAGE_INSTANCE = 1
    VOICE = 2
    EXTERNAL = 3


# "Valid Guild Scheduled Event Status Transitions": SCHEDULED → ACTIVE, ACTIVE → COMPLETED,
# SCHEDULED → CANCELED. "Once status is set to COMPLETED or CANCELED, the status can no longer
# be updated."
VALID_TRANSITIONS: frozenset[tuple[int, int]] = frozenset(
    {
        (EventStatus.SCHEDULED, EventStatus.ACTIVE),
        (EventStatus.ACTIVE, EventStatus.COMPLETED),
        (EventStatus.SCHEDULED, EventStatus.CANCELED),
    }
)
FINISHED = (EventStatus.COMPLETED, EventStatus.CANCELED)

# "Guild Scheduled Event Permissions Requirements": what the computed permissions in the
# event's channel (stage/voice) or at guild level (external) must include besides the
# Create Events / Manage Events rule.
_CHANNEL_PERMS = {
    EntityType.STAGE_INSTANCE: P.MANAGE_CHANNELS | P.MUTE_MEMBERS | P.MOVE_MEMBERS,
    EntityType.VOICE: P.VIEW_CHANNEL | P.CONNECT,
    EntityType.EXTERNAL: 0,
}


def finished_event_error() -> ApiError:
    """JSON error code 180000 ("Opcodes and Status Codes")."""
    return ApiError(400, 180000, "Cannot update a finished event")


def form_error(field: str, code: str, message: str) -> ApiError:
    """Discord's 50035 shape with one field error (the wording is the emulator's: Discord does
    not document the texts of these checks)."""
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {field: {"_errors": [{"code": code, "message": message}]}},
    )


def parse_time(value: Any, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise form_error(field, "DATE_TIME_TYPE_PARSE", "Could not parse timestamp.") from None
    if parsed.tzinfo is None:
        raise form_error(field, "DATE_TIME_TYPE_PARSE", "Timestamp needs a time zone.")
    return parsed


@dataclass
class _Shape:
    """The fields the entity-type rules look at, after applying a create/modify body."""

    entity_type: int
    channel_id: int | None
    location: str | None
    start: datetime
    end: datetime | None
    status: int


class ScheduledEventRules:
    """Checks create/modify/delete requests against Discord's rules and runs the automation."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.auto_cancel_after = timedelta(hours=2)
        """Discord cancels an event still SCHEDULED "a certain time interval (on the order of
        hours)" after its start; the exact interval is undocumented, two hours is a guess."""

    # --- checks ---------------------------------------------------------------------------------
    def _channel_rules(self, guild: Guild, shape: _Shape) -> None:
        """ "Field Requirements By Entity Type": stage/voice need their kind of channel; external
        events need channel_id null, a location and an end time."""
        if shape.entity_type == EntityType.EXTERNAL:
            if shape.channel_id is not None:
                raise form_error(
                    "channel_id", "BASE_TYPE_BAD_VALUE", "Must be null for an external event."
                )
            if not shape.location:
                raise form_error(
                    "entity_metadata",
                    "BASE_TYPE_REQUIRED",
                    "A location is required for an external event.",
                )
            if shape.end is None:
                raise form_error(
                    "scheduled_end_time",
                    "BASE_TYPE_REQUIRED",
                    "An end time is required for an external event.",
                )
            return
        wanted = (
            ChannelType.STAGE
            if shape.entity_type == EntityType.STAGE_INSTANCE
            else ChannelType.VOICE
        )
        if shape.channel_id is None:
            raise form_error("channel_id", "BASE_TYPE_REQUIRED", "This field is required")
        channel = self.world.channels.get(shape.channel_id)
        if channel is None or channel.deleted or channel.guild_id != guild.id:
            raise ApiError(404, 10003, "Unknown Channel")
        if channel.type != wanted:
            kind = "stage" if wanted == ChannelType.STAGE else "voice"
            raise form_error(
                "channel_id",
                "GUILD_SCHEDULED_EVENT_INVALID_CHANNEL_TYPE",
                f"The channel must be a {kind} channel for this entity type.",
            )

    def _time_rules(self, shape: _Shape, *, start_changed: bool) -> None:
        if start_changed and shape.start <= self.world.clock.now():
            raise form_error(
                "scheduled_start_time",
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        if shape.end is not None and shape.end <= shape.start:
            raise form_error(
                "scheduled_end_time",
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )

    def _permissions(
        self, guild: Guild, shape: _Shape, *, user_id: int, creator_id: int | None, create: bool
    ) -> None:
        """Create needs CREATE_EVENTS; modify/delete needs MANAGE_EVENTS, or CREATE_EVENTS for
        the event's creator; stage/voice events also need the channel permissions listed on the
        docs page, computed in the event's channel."""
        if shape.entity_type != EntityType.EXTERNAL and shape.channel_id is not None:
            channel = self.world.channels[shape.channel_id]
            perms = self.world.permissions_in(channel, user_id)
            if not perms & P.VIEW_CHANNEL:
                raise forbidden(50001)
        else:
            perms = base_permissions(guild, self.world.roles, user_id)
        if create:
            events_ok = bool(perms & P.CREATE_EVENTS)
        else:
            own = creator_id == user_id
            events_ok = bool(perms & P.MANAGE_EVENTS) or (own and bool(perms & P.CREATE_EVENTS))
        extra = _CHANNEL_PERMS[shape.entity_type]
        if not events_ok or extra & ~perms:
            raise forbidden(50013)

    # --- requests -------------------------------------------------------------------------------
    def create(self, guild: Guild, body: JSON, *, user_id: int) -> ScheduledEvent:
        if int(body.get("status") or EventStatus.SCHEDULED) != EventStatus.SCHEDULED:
            # Create Guild Scheduled Event has no status param; a new event is SCHEDULED.
            raise form_error("status", "BASE_TYPE_CHOICES", "Value must be one of {1}.")
        meta = body.get("entity_metadata") or {}
        shape = _Shape(
            entity_type=int(body.get("entity_type") or 0),
            channel_id=int(body["channel_id"]) if body.get("channel_id") else None,
            location=meta.get("location") if isinstance(meta, dict) else None,
            start=parse_time(body.get("scheduled_start_time"), "scheduled_start_time"),
            end=(
                parse_time(body["scheduled_end_time"], "scheduled_end_time")
                if body.get("scheduled_end_time")
                else None
            ),
            status=EventStatus.SCHEDULED,
        )
        if shape.entity_type not in _CHANNEL_PERMS:
            raise form_error("entity_type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        if shape.entity_type != EntityType.EXTERNAL and body.get("entity_metadata"):
            raise form_error(
                "entity_metadata", "BASE_TYPE_BAD_VALUE", "Must be null for this entity type."
            )
        self._channel_rules(guild, shape)
        self._permissions(guild, shape, user_id=user_id, creator_id=user_id, create=True)
        self._time_rules(shape, start_changed=True)
        return ScheduledEvent(
            id=self.world.snowflake(),
            guild_id=guild.id,
            name=body.get("name", ""),
            scheduled_start_time=shape.start,
            entity_type=shape.entity_type,
            channel_id=shape.channel_id,
            creator_id=user_id,
            description=body.get("description"),
            scheduled_end_time=shape.end,
            location=shape.location if shape.entity_type == EntityType.EXTERNAL else None,
            privacy_level=int(body.get("privacy_level") or 2),
        )

    def modify(self, guild: Guild, event: ScheduledEvent, body: JSON, *, user_id: int) -> None:
        """Check a Modify Guild Scheduled Event body against the event's state, then apply it."""
        if event.status in FINISHED:
            raise finished_event_error()
        entity_type = int(body.get("entity_type") or event.entity_type)
        becomes_external = (
            entity_type == EntityType.EXTERNAL and event.entity_type != EntityType.EXTERNAL
        )
        if becomes_external:
            # "If updating entity_type to EXTERNAL: channel_id is required and must be set to
            # null; entity_metadata with a location field must be provided; scheduled_end_time
            # must be provided."
            for key in ("channel_id", "entity_metadata", "scheduled_end_time"):
                if key not in body:
                    raise form_error(key, "BASE_TYPE_REQUIRED", "This field is required")
        channel_id = event.channel_id
        if "channel_id" in body:
            channel_id = int(body["channel_id"]) if body["channel_id"] else None
        location = event.location
        if "entity_metadata" in body and entity_type == EntityType.EXTERNAL:
            # "This endpoint silently discards entity_metadata for non-EXTERNAL events."
            meta = body["entity_metadata"] or {}
            location = meta.get("location") if isinstance(meta, dict) else None
        start = event.scheduled_start_time
        if "scheduled_start_time" in body:
            start = parse_time(body["scheduled_start_time"], "scheduled_start_time")
        end = event.scheduled_end_time
        if "scheduled_end_time" in body:
            raw_end = body["scheduled_end_time"]
            end = parse_time(raw_end, "scheduled_end_time") if raw_end else None
        status = int(body.get("status") or event.status)
        if status != event.status and (event.status, status) not in VALID_TRANSITIONS:
            raise form_error(
                "status",
                "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                f"Cannot change the status from {event.status} to {status}.",
            )
        shape = _Shape(entity_type, channel_id, location, start, end, status)
        if entity_type not in _CHANNEL_PERMS:
            raise form_error("entity_type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        self._channel_rules(guild, shape)
        self._permissions(guild, shape, user_id=user_id, creator_id=event.creator_id, create=False)
        start_changed = "scheduled_start_time" in body and start != event.scheduled_start_time
        self._time_rules(
            shape, start_changed=start_changed and event.status == EventStatus.SCHEDULED
        )
        event.entity_type = entity_type
        event.channel_id = channel_id
        event.location = location if entity_type == EntityType.EXTERNAL else None
        event.scheduled_start_time = start
        event.scheduled_end_time = end
        event.status = status
        if "name" in body:
            event.name = body["name"]
        if "description" in body:
            event.description = body["description"]
        if "privacy_level" in body:
            event.privacy_level = int(body["privacy_level"])

    def check_delete(self, guild: Guild, event: ScheduledEvent, *, user_id: int) -> None:
        shape = _Shape(
            event.entity_type,
            event.channel_id,
            event.location,
            event.scheduled_start_time,
            event.scheduled_end_time,
            event.status,
        )
        if event.channel_id is not None:
            channel = self.world.channels.get(event.channel_id)
            if channel is None or channel.deleted:
                shape.channel_id = None
        self._permissions(guild, shape, user_id=user_id, creator_id=event.creator_id, create=False)

    # --- Discord's own transitions --------------------------------------------------------------
    async def advance(self) -> list[ScheduledEvent]:
        """Apply "Guild Scheduled Event Status Update Automation" for ``world.clock.now()``:
        external events go ACTIVE at their start and COMPLETED at their end; events still
        SCHEDULED long after their start are CANCELED. Each change is a
        GUILD_SCHEDULED_EVENT_UPDATE. Returns the events that changed."""
        now = self.world.clock.now()
        changed: list[ScheduledEvent] = []
        for event in list(self.world.scheduled_events.values()):
            if event.deleted:
                continue
            steps: list[int] = []
            status = event.status
            if event.entity_type == EntityType.EXTERNAL:
                if status == EventStatus.SCHEDULED and now >= event.scheduled_start_time:
                    status = EventStatus.ACTIVE
                    steps.append(status)
                end = event.scheduled_end_time
                if status == EventStatus.ACTIVE and end is not None and now >= end:
                    status = EventStatus.COMPLETED
                    steps.append(status)
            elif (
                status == EventStatus.SCHEDULED
                and now >= event.scheduled_start_time + self.auto_cancel_after
            ):
                status = EventStatus.CANCELED
                steps.append(status)
            for step in steps:
                event.status = step
                await self.world.gateway.dispatch(
                    "GUILD_SCHEDULED_EVENT_UPDATE",
                    event.to_json(),
                    intent=Intent.GUILD_SCHEDULED_EVENTS,
                )
            if steps:
                changed.append(event)
        if changed:
            self.world.notify()
        return changed
