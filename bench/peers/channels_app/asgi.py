# One WebSocket consumer for the fanout and rooms shapes of the Django
# Channels peer (bench/peers/channels_driver.py).
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channels_app.settings")

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class Chat(AsyncWebsocketConsumer):
    """/chat/<inbox>/<target>/: joins the group <inbox> (unless "none") and
    receives every message sent to it; each text frame it receives goes to
    the group <target> with group_send and is answered "ok" (the sender's
    acknowledgement). fanout: members on /chat/room/none/, the sender on
    /chat/none/room/; rooms: each user on /chat/<own inbox>/<partner's>/."""

    async def connect(self):
        kw = self.scope["url_route"]["kwargs"]
        self.inbox, self.target = kw["inbox"], kw["target"]
        if self.inbox != "none":
            await self.channel_layer.group_add(self.inbox, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.inbox != "none":
            await self.channel_layer.group_discard(self.inbox, self.channel_name)

    async def chat_message(self, event):
        await self.send(text_data=event["text"])

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(self.target, {"type": "chat.message", "text": text_data})
        await self.send(text_data="ok")


application = ProtocolTypeRouter({
    "websocket": URLRouter([
        path("chat/<str:inbox>/<str:target>/", Chat.as_asgi()),
    ]),
})
