# Two WebSocket endpoints: /room/ joins the group "room" and receives every
# message sent to it; /send/ publishes each text frame to the group and
# answers "ok" once group_send returned (the sender's acknowledgement).
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channels_app.settings")

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class Member(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("room", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("room", self.channel_name)

    async def chat_message(self, event):
        await self.send(text_data=event["text"])


class Sender(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send("room", {"type": "chat.message", "text": text_data})
        await self.send(text_data="ok")


application = ProtocolTypeRouter({
    "websocket": URLRouter([
        path("room/", Member.as_asgi()),
        path("send/", Sender.as_asgi()),
    ]),
})
