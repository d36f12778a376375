"""Stories shared by the screenwriter tests: a chapter in each language, Markdown, one-liners."""

ZH_IDEA = "一位独行武者穿越废土城市寻找真相"
EN_IDEA = "A lone swordsman crosses a ruined city to find the truth"

ZH_CHAPTER = """第一章 荒城

夜幕降临，荒城的街道上空无一人。李雷背着长剑，独自走进一间破旧的客栈。

小红正坐在窗前擦拭短刀。她抬起头，看见李雷，眼里闪过一丝惊喜。

小红笑着说：“我们走吧。”李雷点点头，却没有动。“外面有人在等我们。”他低声说。

“那就让他们等。”小红站起身来，推开了后门。两人沿着小巷向城外跑去。

黎明时分，他们终于来到了河边。老张早已等在船上，他喊道：“快上船！”
"""
ZH_CHAPTER_QUOTES = ["我们走吧。", "外面有人在等我们。", "那就让他们等。", "快上船！"]

EN_CHAPTER = """Chapter One

The rain had not stopped for three days when Anna reached the old harbor. She pulled her
coat tight and looked for the ship.

"You're late," said Marcus, stepping out of the shadows. He was taller than she remembered.

Anna smiled. "I had to be careful. They are watching the roads."

"Then we leave tonight," Marcus said, and turned toward the dock. At midnight the two of
them slipped aboard a fishing boat.

By dawn the city was only a grey line behind them. Anna asked, "Do you think they will
follow us?"

"They always do," he replied.
"""
EN_CHAPTER_QUOTES = [
    "You're late.",
    "I had to be careful. They are watching the roads.",
    "Then we leave tonight.",
    "Do you think they will follow us?",
    "They always do.",
]

ZH_MARKDOWN = """# 星河尽头

![封面](cover.png)

## 启程

在**太空站**的观景窗前，[林月](https://example.com/linyue)望着遥远的星云。她已经在这里等了十年。

## 风暴

飞船驶入风暴。林月握紧操纵杆，对副驾驶王强说：“坚持住！”

王强大声回答：“明白！”

## 归来

清晨，飞船终于降落在故乡的草原上。
"""

EN_MARKDOWN = """# The Last Lighthouse

## Storm

At *night* the storm hit the [lighthouse](https://example.com/lh) on the island.
![storm](storm.jpg) Old keeper Tom Reed lit the lamp. He climbed the stairs alone.

## Morning

At dawn a small boat reached the beach. "Is anyone there?" Lucy called.
"""
