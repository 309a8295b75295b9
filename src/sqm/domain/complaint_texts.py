"""A generator of realistic complaint texts per sub-category, in Chinese and English.

Used for the demo data and to train the category classifier before real labelled
complaints exist.  Texts are templates × slot fillers with noise (greetings, fillers,
dropped punctuation, a dropped character, an unrelated grumble).  Each sub-category has
several templates; :func:`generate` can draw from even- or odd-numbered templates only,
so a classifier can be scored on texts made from templates it never saw (an honest
held-out score, not a memorised one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sqm.domain.complaint_taxonomy import all_subcategories

ZH: dict[str, tuple[str, ...]] = {
    "network.no_signal": (
        "我家住在{place}，{period}手机一直没信号，打电话都要跑到楼下。",
        "{place}附近信号特别差，室内经常显示无服务，{demand}",
        "在{place}上班，办公室里手机只有一格信号，经常接不到电话，{emotion}",
        "新搬到{place}，家里信号时有时无，短信都发不出去。",
        "{place}地下车库完全没有信号，一进电梯就断网，希望加建基站。",
        "老家村里覆盖太差，只有2G信号，连微信语音都打不通，{demand}",
        "手机在{place}经常显示“无服务”，去窗边才有一格信号，{demand}",
        "我们整栋楼都没有手机信号，物业说是运营商的问题，{emotion}",
        "{period}在家里手机信号很弱，视频通话一直卡，打个电话都要找位置。",
        "小区里是信号盲区，快递员打电话都打不进来，{demand}",
    ),
    "network.call_drop": (
        "{period}打电话老是掉线，说不到两分钟就断了，{emotion}",
        "通话过程中声音断断续续，对方经常听不清我说话，在{place}尤其严重。",
        "一天掉话好几次，和客户谈业务时突然断线，损失很大，{demand}",
        "打电话有回音还有杂音，在{place}基本没法正常通话。",
        "电话接通后没有声音，只能挂掉重打，{period}都是这样。",
        "VoLTE通话频繁中断，换了新手机也一样，肯定是网络问题。",
        "和家人通话经常说着说着就没声了，然后直接断掉，{emotion}",
        "开车经过{place}时电话必断，已经好几次了。",
        "接电话时对方声音像机器人一样断断续续，根本听不清，{demand}",
        "{period}每天都有好几通电话中途掉线，重拨也一样。",
    ),
    "network.slow_data": (
        "{period}手机上网特别慢，刷视频一直转圈，{emotion}",
        "5G信号满格但是网速只有几百K，在{place}打开网页都要半天。",
        "我办的是{package}，流量还有很多，可网速慢得像2G，{demand}",
        "晚上高峰时段4G网速极慢，微信图片都发不出去。",
        "在{place}测速下载只有1兆，玩游戏延迟特别高。",
        "手机数据网络时快时慢，导航经常加载不出来，{demand}",
        "流量网速很慢，打开一个网页要一分钟，{demand}",
        "{period}4G网络上网卡顿，微信视频都连不上，{emotion}",
        "同样的地方别人的手机网速很快，我的手机数据就特别慢。",
        "看直播一直缓冲，测了下手机网速只有0.5兆，{demand}",
    ),
    "network.outage": (
        "{place}一带从{time}开始整片区域没有网络，电话也打不出去，{demand}",
        "今天{time}起手机突然全部无服务，问了邻居也一样，是不是基站坏了？",
        "整个{place}断网好几个小时了，也没有任何通知，{emotion}",
        "昨晚你们网络大面积故障，耽误了我重要的事情，要求赔偿。",
        "{place}的基站好像停电了，{period}反复出现全网中断。",
        "突发网络故障导致我无法支付和打车，请说明原因并补偿。",
        "今天{place}附近手机完全没有网络，也打不了电话，持续了{hours}个小时，{demand}",
        "早上起来发现手机一直无服务，整个小区都这样，到现在也没恢复。",
        "你们网络突然瘫痪，{time}以后就用不了了，请给个解释并补偿。",
        "{period}已经第二次大面积断网了，没有任何提前通知，{emotion}",
    ),
    "billing.overcharge": (
        "{month}话费莫名其妙多扣了{amount}元，我根本没有用那么多，{demand}",
        "账单里有一笔{amount}元的费用不知道是什么，客服也说不清楚。",
        "我明明是{package}，为什么这个月扣了{amount}元？乱扣费！",
        "没有出国却被收了国际漫游费{amount}元，{demand}",
        "流量明明没超却收了超出费用{amount}元，要求查清并退还。",
        "每个月都多收几块钱，累计已经多扣了{amount}元，{emotion}",
        "查了话费详单发现被重复扣费{amount}元，{demand}",
        "套餐外莫名多出一笔{amount}元的收费，我根本没使用过这项服务。",
        "这个月话费比平时多了{amount}元，客服解释不清楚，{emotion}",
        "已经停机了还在扣月租，多扣了{amount}元，要求退还。",
    ),
    "billing.tariff_dispute": (
        "办理{package}时说好每月优惠{amount}元，现在优惠没了，属于虚假宣传。",
        "营业员承诺的套餐资费和实际扣费不一样，{demand}",
        "合约期还没到你们就擅自把我的套餐改成了更贵的，{emotion}",
        "宣传说不限量，结果用了几十G就限速，这是套餐欺诈。",
        "老用户的资费比新用户贵很多，要求改成同样的{package}。",
        "套餐到期后自动续约成高价套餐，事先没有任何通知。",
        "当初办理时说每月只要{amount}元，现在每个月扣的钱都超过这个数，{demand}",
        "套餐资费说明里写的和营业员口头承诺的不一致，我觉得被骗了。",
        "没经过我同意就把我的{package}涨价了，{emotion}",
        "赠送的流量和通话分钟数被取消了，资费却没有降低。",
    ),
    "billing.refund": (
        "销户时承诺{days}天内退还余额{amount}元，到现在还没到账，{demand}",
        "上次投诉客服答应退费{amount}元，已经过去{days}天了还没退。",
        "多扣的{amount}元说好原路退回，一直拖着不办，{emotion}",
        "预存话费{amount}元办理失败，钱扣了业务没办成，要求退款。",
        "退费流程太复杂，跑了三次营业厅还没有退下来。",
        "充值{amount}元没有到账，申请退款也没人处理。",
        "申请退款已经{days}天了，钱还没有退到我的账户，{demand}",
        "多收的费用答应退给我，结果只退了一部分，还差{amount}元。",
        "办理销户后剩余话费{amount}元一直不给退，{emotion}",
        "说好的补偿款一直没有到账，打了几次电话都说在处理。",
    ),
    "billing.invoice": (
        "申请电子发票{days}天了一直开不出来，公司报销急用，{demand}",
        "账单明细查不到，APP里显示的金额和短信通知的不一致。",
        "发票抬头开错了，要求重开却被告知不能修改，{emotion}",
        "每个月的详单都看不懂，{amount}元的费用没有明细说明。",
        "纸质账单一直没有寄到，客服说地址有问题但我没改过。",
        "月结发票金额和实际缴费金额不一致，请核实。",
        "在APP上开不了发票，一直提示系统错误，{demand}",
        "我要的是增值税专用发票，你们只给开普通发票，{emotion}",
        "账单上有几项费用名称看不懂，要求提供详细清单。",
        "上个月的电子账单一直没收到，邮箱里也没有。",
    ),
    "service.rude_staff": (
        "{store}的营业员态度非常恶劣，对我大声呵斥，{demand}",
        "打客服电话，客服人员说话很不耐烦，还直接挂我电话，{emotion}",
        "{store}工作人员爱答不理，一直玩手机不理顾客。",
        "装维师傅上门时态度蛮横，还跟我吵起来了，要求道歉。",
        "询问业务时客服冷嘲热讽，服务意识太差了。",
        "营业员对老年人没有耐心，说话很难听，{demand}",
        "营业厅的工作人员对我翻白眼，说话阴阳怪气，{demand}",
        "客服接电话时语气很冲，还说我自己不会用，{emotion}",
        "上门的维修人员抽烟还骂人，服务态度极差。",
        "我只是多问了几句，{store}的店员就很不耐烦地赶我走。",
    ),
    "service.long_wait": (
        "在{store}排队等了{hours}个小时才办上业务，窗口只开一个，{emotion}",
        "客服热线一直打不进去，等了半个多小时都是排队中。",
        "人工客服太难转了，按了十几次键还是机器人回答，{demand}",
        "{store}人很多但只有一个营业员，等得太久了。",
        "在线客服排队{hours}个小时都没人接入，{emotion}",
        "预约了上午办理，到了还要重新取号排队。",
        "打客服电话排了{hours}个小时都没人接，{emotion}",
        "{store}只开了一个窗口，排队的人排到了门外。",
        "办理一个简单业务等了一上午，效率太低了，{demand}",
        "转人工提示前面还有几十人在等待，等到最后自动挂断了。",
    ),
    "service.wrong_info": (
        "客服告诉我可以免费改套餐，结果办完收了{amount}元违约金，这是误导。",
        "营业员解释的和实际规定完全不一样，害我白跑了一趟，{demand}",
        "问了三个客服给了三种说法，到底以哪个为准？",
        "{store}工作人员说办理后立即生效，结果下个月才生效，{emotion}",
        "销售人员为了业绩夸大宣传，隐瞒了合约期限制。",
        "客服说已经帮我取消了，结果还在继续扣费，信息错误。",
        "客服说我的套餐可以随时取消，结果取消时要交违约金，{demand}",
        "营业员给的说明和短信通知的内容完全相反，{emotion}",
        "被告知补卡不需要费用，到了营业厅却要收{amount}元。",
        "客服把我的问题理解错了，给我办了别的业务。",
    ),
    "service.no_callback": (
        "上次反映的问题客服说{days}天内回电，到现在也没人联系我，{emotion}",
        "工单提交了{days}天，一直显示处理中，没有任何回复。",
        "客服承诺24小时内回复，结果石沉大海，{demand}",
        "已经第三次打电话了，每次都说会有专人回访，从来没人回过。",
        "说好上门处理的时间没人来，也不打电话说明。",
        "投诉后没有任何人跟进，问题至今没解决。",
        "客服说会在{days}天内给我回复，到现在音信全无，{demand}",
        "反映的问题一直没人回访，打电话过去又要重新说一遍，{emotion}",
        "说好的专人跟进，结果谁也联系不上。",
        "提交的投诉单被直接关闭了，没有任何人联系过我。",
    ),
    "product.handset_fault": (
        "在{store}买的{device}用了{days}天就黑屏死机，{demand}",
        "合约机经常自动重启，拿去检测说是正常的，{emotion}",
        "新买的{device}充不进电，发热严重，要求换货。",
        "{device}屏幕出现竖线，才买了不到一个月。",
        "手机信号模块有问题，同一个地方别的手机有信号它没有。",
        "买的{device}是翻新机，包装被拆过，要求退货。",
        "新手机用了不到一周就开不了机，{demand}",
        "在你们这里买的{device}经常死机卡顿，{emotion}",
        "手机摄像头打不开，送检说没有问题，拿回来还是坏的。",
        "合约机电池鼓包了，要求更换新机。",
    ),
    "product.sim_card": (
        "SIM卡突然无法识别，手机提示无SIM卡，{demand}",
        "补办的电话卡用不了，{store}说要再等{days}天。",
        "换了5G卡以后经常提示SIM卡错误，{emotion}",
        "手机卡被莫名停用，提示卡已注销，我没有办理过。",
        "eSIM开通失败，手表一直无法独立通话。",
        "号卡激活不了，客服让我自己去营业厅，来回折腾。",
        "手机卡突然读不出来了，提示请插入SIM卡，{demand}",
        "新办的卡插上去一直没有信号，换了手机也不行。",
        "SIM卡被锁了要PUK码，客服查不到，{emotion}",
        "补卡以后旧卡还能用，新卡却不能用。",
    ),
    "product.warranty": (
        "{device}在保修期内坏了，{store}却说不给保修，{demand}",
        "送修{days}天了还没修好，也没有备用机，{emotion}",
        "保修要求我自费{amount}元检测费，这不合理。",
        "维修后问题依旧，第二次送修还要收费。",
        "承诺的一年质保，半年就说人为损坏不给修。",
        "售后网点太远，寄修又没人负责运费。",
        "手机还在保修期内，维修点却说要付费维修，{demand}",
        "送修的{device}过了{days}天还没修好，问进度也没人说得清。",
        "售后说是进水了不保修，但手机从来没沾过水，{emotion}",
        "维修回来的手机出现了新的问题，要求免费再修。",
    ),
    "broadband.install_delay": (
        "{days}天前办理的宽带到现在还没人上门安装，{demand}",
        "约好今天装宽带，等了一整天师傅没来，也没打电话，{emotion}",
        "新房办了{speed}宽带，说资源不足一直拖着不装。",
        "宽带迁移申请了{days}天，新家一直没网用。",
        "装机预约时间一改再改，严重影响在家办公。",
        "交了{amount}元安装费，至今没有安装，要求退款或尽快安装。",
        "宽带申请了{days}天还没有人来装，{demand}",
        "约好的装机师傅没来，打电话说排不上，{emotion}",
        "新家等着用网，宽带装机一拖再拖。",
        "交了钱说三天内安装，现在已经过了一个星期。",
    ),
    "broadband.repair_delay": (
        "家里宽带坏了{days}天，报修了还没有人来修，{demand}",
        "光猫亮红灯，报障后说48小时上门，已经超过三天了。",
        "宽带故障报修多次，维修人员来了也修不好，{emotion}",
        "报修后一直说在排队，孩子上网课都耽误了。",
        "机顶盒和宽带都不能用，维修一拖再拖。",
        "维修师傅说线路要换但一直没人来施工。",
        "宽带断网报修{days}天了，维修人员还没上门，{demand}",
        "报修电话打了好几次，每次都说已经派单，就是没人来。",
        "修了两次宽带还是不能用，维修人员说要等材料，{emotion}",
        "家里断网好几天，孩子网课都上不了，维修太慢了。",
    ),
    "broadband.bb_disconnect": (
        "家里宽带每天晚上都会断线好几次，{emotion}",
        "{period}WiFi频繁掉线，重启光猫也没用，{demand}",
        "宽带一会儿能上一会儿不能上，看电视经常卡住断开。",
        "打游戏的时候宽带总是断开重连，严重影响使用。",
        "每天固定时间断网，报修说没问题但问题一直存在。",
        "光纤经常掉线，一天要重新拨号好几次。",
        "宽带老是掉线，一天要断好几次，{demand}",
        "WiFi经常连不上网，光猫指示灯一直闪，{emotion}",
        "晚上看电视宽带断断续续，网络很不稳定。",
        "宽带每隔一段时间就断开，只能重启路由器。",
    ),
    "broadband.bb_speed": (
        "办的是{speed}宽带，测速只有几十兆，{demand}",
        "宽带网速远达不到签约速率，晚上看高清视频都卡，{emotion}",
        "{speed}光纤实际速度还不到一半，这是虚标。",
        "升级到{speed}多交了钱，网速一点没变快。",
        "宽带延迟很高，网页打开很慢，测速严重不达标。",
        "家里{speed}宽带下载速度只有几兆每秒，要求提速或降费。",
        "家里宽带网速很慢，测速远低于{speed}，{demand}",
        "办理的{speed}宽带实际速度只有十几兆，{emotion}",
        "宽带下载速度很慢，高峰期更是卡得没法用。",
        "提速以后网速反而变慢了，要求检测线路。",
    ),
    "vas.unsolicited_sub": (
        "话费里多了{vas}的费用，我从来没有订购过，{demand}",
        "被莫名其妙开通了{vas}，每月扣{amount}元，{emotion}",
        "营业员趁我办卡时偷偷给我加了{vas}，没有告知。",
        "接到一个电话说免费体验，结果被开通了{vas}收费业务。",
        "我没有同意却被订购了增值业务，要求退还所有费用。",
        "手机里多了好几个包月业务，都不是我自己开的。",
        "我没有订过{vas}却每月被扣费，{demand}",
        "话费账单里突然多了{vas}，询问后才知道被开通了，{emotion}",
        "营业员在我不知情的情况下开通了增值业务。",
        "点了一条短信就被订购了包月服务，根本没有确认。",
    ),
    "vas.unsubscribe": (
        "想退订{vas}，APP里找不到入口，{demand}",
        "发短信退订{vas}一直失败，还在继续扣费，{emotion}",
        "客服说{vas}要到营业厅才能退订，太麻烦了。",
        "退订后第二个月又被自动开通了。",
        "取消包月业务要求本人到场，我在外地根本去不了。",
        "退订{vas}时被反复挽留推销，就是不给退。",
        "{vas}怎么退订都退不掉，{demand}",
        "按照短信提示回复退订，结果还是继续收费，{emotion}",
        "想取消{vas}，客服让我下载另一个APP操作，太麻烦了。",
        "业务退订要收违约金，这不合理。",
    ),
    "vas.content_fee": (
        "手机被扣了{amount}元信息费，不知道是什么服务，{demand}",
        "点了一个广告链接就被扣了{amount}元信息费，{emotion}",
        "孩子玩游戏产生了{amount}元代收费，没有任何确认提示。",
        "账单里有第三方代收费，查不到是哪家公司。",
        "短信点播费用不明，每条收费好几元。",
        "视频会员自动续费扣了{amount}元，没有提前提醒。",
        "话费里有一笔{amount}元的信息服务费，我不知道是什么，{demand}",
        "被扣了{amount}元的游戏点卡费用，不是我本人消费的。",
        "手机上莫名产生第三方支付费用，{emotion}",
        "扣了好几个月的会员费，从来没有收到过任何提醒。",
    ),
    "porting.port_refused": (
        "申请携号转网被告知有合约不能转，但我的合约早就到期了，{demand}",
        "想携号转网，客服一直推销挽留，就是不给办理授权码，{emotion}",
        "携号转网查询说有未结清费用，实际上我已经缴清了。",
        "营业厅以各种理由拒绝办理携转，这是设置障碍。",
        "号码被捆绑了宽带不能携转，办理时从来没说过。",
        "要求携号转网，对方说靓号不能转，要交{amount}元才行。",
        "申请携号转网，系统一直提示不符合条件，{demand}",
        "营业厅说我的号码有优惠活动绑定，不能携转，{emotion}",
        "携号转网要求我先交{amount}元违约金，当初办理时没说过。",
        "客服百般阻拦不让我转网，还说转了以后信号会变差。",
    ),
    "porting.port_delay": (
        "携号转网已经办理{days}天了，新卡还是没有信号，{demand}",
        "携转过程中号码停机了{days}天，接不了电话，{emotion}",
        "携号转网授权码短信一直收不到，没办法继续办理。",
        "转网后旧运营商的余额迟迟不退。",
        "携入后很多业务开不了，说号码还在迁移中。",
        "携号转网办理太慢，说好的两天变成了一周。",
        "携号转网申请提交了{days}天还没完成，{demand}",
        "转网过程中手机不能用，已经影响了我的工作，{emotion}",
        "携转成功后短信收不到，说是数据还没同步。",
        "携号转网一直卡在审核环节，没人告诉我原因。",
    ),
    "privacy.data_leak": (
        "刚办完业务就接到推销电话，对方知道我的姓名和套餐，肯定是信息泄露，{demand}",
        "我的身份证信息被人拿去办了手机卡，{emotion}",
        "营业厅把我的证件复印件随意放在柜台上，担心个人信息泄露。",
        "陌生人能说出我的通话记录，要求调查信息是怎么泄露的。",
        "有人冒用我的身份在{store}补办了我的手机卡。",
        "个人信息被卖给了贷款公司，天天有人打电话。",
        "我的手机号和家庭住址被泄露了，经常有陌生人找上门，{demand}",
        "刚在营业厅办完业务就收到了相关的推销短信，{emotion}",
        "有人用我的信息开通了业务，要求查明并处理。",
        "客服在电话里把我的个人信息告诉了别人。",
    ),
    "privacy.spam": (
        "每天收到大量骚扰电话，{period}一天十几个，{demand}",
        "垃圾短信太多了，拦截了还是不停地发，{emotion}",
        "总是接到推销贷款和保险的电话，要求加强骚扰电话治理。",
        "半夜还有营销短信，严重影响休息。",
        "你们自己的营销电话也打个不停，说了不需要还一直打。",
        "诈骗短信冒充运营商发积分兑换链接，要求处理。",
        "每天都收到好几条垃圾短信，{demand}",
        "骚扰电话一天打好几次，拉黑了换个号码继续打，{emotion}",
        "经常接到响一声就挂的电话，回拨过去就扣费。",
        "收到大量赌博和贷款广告短信，请加强拦截。",
    ),
    "privacy.realname": (
        "我名下多了一个号码，不是我本人办理的，{demand}",
        "实名认证一直失败，号码被限制使用，{emotion}",
        "二次实名核验要求太麻烦，老人不会操作被停机。",
        "一证通查发现名下有{days}个号码，我只办过一个。",
        "人脸识别总是通不过，手机卡被暂停服务。",
        "号码实名信息登记错误，修改要跑好几次营业厅。",
        "有人冒用我的身份证办了手机号，{demand}",
        "实名认证信息不对，要求更正却一直办不了，{emotion}",
        "号码因为实名问题被停机，我本人信息都是真实的。",
        "查询发现名下有陌生号码，要求立即注销。",
    ),
}

EN: dict[str, tuple[str, ...]] = {
    "network.no_signal": (
        "No signal at my home in {place_en} for {period_en}.",
        "Weak mobile coverage indoors, phone shows no service most of the day.",
        "Cannot make calls from my office, only one bar of reception.",
        "Zero reception in the basement and lifts, please add a mast.",
    ),
    "network.call_drop": (
        "Calls keep dropping after a minute or two.",
        "Poor call quality, voice breaks up and the other side cannot hear me.",
        "Dropped calls several times a day in {place_en}.",
        "Echo and static on every call since {period_en}.",
    ),
    "network.slow_data": (
        "Mobile data extremely slow, videos keep buffering.",
        "Full 5G bars but data speed is under 1 Mbps in {place_en}.",
        "Mobile internet crawls in the evening, cannot even load maps.",
        "Data connection slow and unreliable on my phone for {period_en}.",
    ),
    "network.outage": (
        "Complete network outage in {place_en} since this morning.",
        "Service down across the whole area for hours with no notice.",
        "Repeated outages, no phone and no data, want compensation.",
        "Mast seems down, the entire neighbourhood has no service.",
    ),
    "billing.overcharge": (
        "Overcharged ${amount} on my bill this month.",
        "Unexplained charges of ${amount} on my account.",
        "Billed for roaming although I never left the country.",
        "Charged twice for the same month, want a correction.",
    ),
    "billing.tariff_dispute": (
        "Promised discount on my plan was removed without notice.",
        "Price of my plan went up in the middle of the contract.",
        "Unlimited plan is throttled after a few GB, false advertising.",
        "Data cap and overage fees were never disclosed when I signed up.",
    ),
    "billing.refund": (
        "Still waiting for my refund of ${amount} after {days} days.",
        "Promised credit never appeared on my account.",
        "Cancelled service but they will not return my deposit.",
        "Refund for the overcharge was approved but never paid.",
    ),
    "billing.invoice": (
        "Cannot get an invoice for my payments.",
        "Bill details do not match what the app shows.",
        "Paper bill never arrives, statement missing for months.",
        "Invoice has the wrong company name and they refuse to fix it.",
    ),
    "service.rude_staff": (
        "Rude customer service representative hung up on me.",
        "Store staff were disrespectful and shouted at me.",
        "Technician was rude and argued with me at my home.",
        "Agent was condescending and refused to help.",
    ),
    "service.long_wait": (
        "On hold for over an hour waiting for an agent.",
        "Waited {hours} hours in the store with only one counter open.",
        "Impossible to reach a human, endless phone menus.",
        "Chat support queue never connects to anyone.",
    ),
    "service.wrong_info": (
        "Agent gave me wrong information about my contract.",
        "Was told the change was free but got charged a fee.",
        "Different representatives gave three different answers.",
        "Misleading sales pitch, terms were hidden from me.",
    ),
    "service.no_callback": (
        "Promised a call back that never came.",
        "Ticket open for {days} days with no response from anyone.",
        "Nobody followed up on my complaint as promised.",
        "Supervisor was supposed to call me back, still waiting.",
    ),
    "product.handset_fault": (
        "New phone keeps restarting and freezing.",
        "Device bought in store stopped charging after {days} days.",
        "Handset screen has lines, want a replacement.",
        "Phone sold as new was clearly refurbished.",
    ),
    "product.sim_card": (
        "SIM card not recognised by my phone.",
        "Replacement SIM does not work, told to wait {days} days.",
        "My SIM was deactivated without my request.",
        "eSIM activation keeps failing.",
    ),
    "product.warranty": (
        "Warranty repair refused although device is under warranty.",
        "Phone at repair for {days} days with no loaner.",
        "Charged ${amount} for a warranty inspection.",
        "Repair did not fix the problem and they want to charge again.",
    ),
    "broadband.install_delay": (
        "Internet installation delayed for {days} days.",
        "Installer never showed up for the appointment.",
        "Still no broadband at my new home after weeks of waiting.",
        "Paid ${amount} installation fee and nothing installed yet.",
    ),
    "broadband.repair_delay": (
        "Internet down for {days} days and no technician sent.",
        "Repair appointment cancelled again, still no internet.",
        "Technician came twice and could not fix my connection.",
        "Modem light red, reported it days ago, no repair.",
    ),
    "broadband.bb_disconnect": (
        "Internet keeps disconnecting every night.",
        "WiFi drops constantly, have to reboot the modem every hour.",
        "Intermittent internet service, connection goes in and out.",
        "Frequent internet outages at home for {period_en}.",
    ),
    "broadband.bb_speed": (
        "Paying for {speed_en} but getting a fraction of the internet speed.",
        "Internet speeds far slower than advertised.",
        "Slow internet at home, speed tests show very low download.",
        "Broadband speed throttled, streaming impossible.",
    ),
    "vas.unsolicited_sub": (
        "Charged for a premium add-on I never ordered.",
        "Subscribed to a service without my consent.",
        "Store added extra services to my account without telling me.",
        "Free trial turned into a paid subscription without consent.",
    ),
    "vas.unsubscribe": (
        "Cannot cancel the add-on subscription, no option in the app.",
        "Unsubscribed but still being charged every month.",
        "They refuse to cancel my subscription over the phone.",
        "Cancellation keeps getting reversed automatically.",
    ),
    "vas.content_fee": (
        "Third-party content charges of ${amount} on my bill.",
        "Premium SMS charges I did not authorise.",
        "Child made in-app purchases billed to my phone account.",
        "Auto-renewed video subscription charged without notice.",
    ),
    "porting.port_refused": (
        "They refuse to release my number to another carrier.",
        "Cannot port my number out, told I owe money I already paid.",
        "Store obstructs number transfer with excuses.",
        "Port-out code never provided despite many requests.",
    ),
    "porting.port_delay": (
        "Number port has taken {days} days and still not done.",
        "Phone number out of service during the porting process.",
        "Porting my number is extremely slow.",
        "Transferred number still not working on the new network.",
    ),
    "privacy.data_leak": (
        "My personal data was leaked, strangers know my account details.",
        "Someone opened a line using my identity.",
        "Account was accessed without authorization, possible breach.",
        "Sim swap fraud, someone took over my number.",
    ),
    "privacy.spam": (
        "Constant spam calls and robocalls every day.",
        "Receiving junk text messages all the time.",
        "Telemarketing calls from the carrier itself will not stop.",
        "Scam texts pretending to be from the company.",
    ),
    "privacy.realname": (
        "An unknown line was registered under my name.",
        "Identity verification keeps failing and my line was suspended.",
        "Account holder name is wrong and cannot be corrected.",
        "ID check too complicated, elderly parent lost service.",
    ),
}

_FILL_ZH: dict[str, tuple[str, ...]] = {
    "place": (
        "阳光花园小区",
        "万达广场",
        "科技园",
        "城东新区",
        "人民路",
        "火车站附近",
        "滨江花园",
        "大学城",
        "开发区",
        "老城区",
        "金地名苑",
        "高新区",
        "体育中心",
        "长江路",
        "翠湖小区",
    ),
    "period": ("这一周", "最近半个月", "这几天", "从上个月开始", "三天以来", "最近", "这段时间"),
    "time": ("早上八点", "中午", "下午三点", "昨晚十点", "今天凌晨"),
    "month": ("上个月", "这个月", "三月份", "最近两个月"),
    "demand": (
        "请尽快处理。",
        "希望给个说法。",
        "要求赔偿。",
        "麻烦尽快派人来看看。",
        "请给我一个明确答复。",
        "再不解决我就去工信部投诉。",
        "请尽快解决。",
    ),
    "emotion": (
        "非常气愤。",
        "太让人失望了。",
        "严重影响工作和生活。",
        "已经忍了很久了。",
        "实在是太差劲了。",
    ),
    "package": ("58元套餐", "129元融合套餐", "5G畅享套餐", "无限流量卡", "199元家庭套餐", "大王卡"),
    "vas": ("彩铃", "视频会员", "游戏包", "手机报", "流量加油包", "音乐包"),
    "device": ("手机", "5G手机", "合约机", "华为手机", "苹果手机", "平板"),
    "store": ("营业厅", "中心营业厅", "合作厅", "旗舰店", "社区营业厅"),
    "speed": ("100兆", "300兆", "500兆", "1000兆"),
}
_FILL_EN: dict[str, tuple[str, ...]] = {
    "place_en": ("downtown", "my neighbourhood", "the business park", "the suburbs", "my street"),
    "period_en": ("a week", "two weeks", "several days", "a month"),
    "speed_en": ("100 Mbps", "300 Mbps", "1 Gig"),
}
_OPENERS_ZH = (
    "",
    "",
    "您好，",
    "你好，",
    "客服你好，",
    "我是老用户了，",
    "我要投诉，",
    "我是{place}的用户，",
)
_CLOSERS_ZH = ("", "", "", "谢谢。", "请尽快回复。", "希望重视。")
_GRUMBLES_ZH = (
    "打了好几次客服电话都没用。",
    "已经不是第一次了。",
    "我用了十几年你们的号码。",
    "家里老人也受影响。",
)
_FILLERS_ZH = ("那个", "就是", "真的", "反正")


@dataclass(frozen=True, slots=True)
class GeneratedComplaint:
    """A generated complaint text with its true sub-category and the template it came from."""

    text: str
    subcategory: str
    language: str
    template: int


def _fill(template: str, rng: np.random.Generator, pools: dict[str, tuple[str, ...]]) -> str:
    values: dict[str, str] = {}
    for key, pool in pools.items():
        values[key] = str(pool[int(rng.integers(len(pool)))])
    values["amount"] = str(int(rng.choice([5, 10, 15, 20, 30, 50, 68, 99, 120, 200, 300, 500])))
    values["days"] = str(int(rng.integers(2, 21)))
    values["hours"] = str(int(rng.integers(1, 4)))
    text = template.format(**values)
    return text.format(**values)  # slot fillers may hold slots themselves


def _noise_zh(text: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.15:
        text = text.replace("，", " ").replace("。", " ")
    if rng.random() < 0.15 and len(text) > 10:
        i = int(rng.integers(len(text)))
        text = text[:i] + text[i + 1 :]
    if rng.random() < 0.2:
        i = int(rng.integers(len(text)))
        text = text[:i] + _FILLERS_ZH[int(rng.integers(len(_FILLERS_ZH)))] + text[i:]
    if rng.random() < 0.25:
        text += _GRUMBLES_ZH[int(rng.integers(len(_GRUMBLES_ZH)))]
    return text


def _noise_en(text: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.3:
        text = text.lower()
    if rng.random() < 0.2:
        text = (
            text.rstrip(".")
            + " - "
            + ("please help", "very frustrated", "fix this", "unacceptable")[int(rng.integers(4))]
        )
    if rng.random() < 0.2:
        text = "Comcast " + text[0].lower() + text[1:]
    return text


def generate(
    n: int,
    seed: int = 0,
    language: Literal["zh", "en"] = "zh",
    templates: Literal["all", "even", "odd"] = "all",
) -> Iterator[GeneratedComplaint]:
    """Yield ``n`` complaints spread evenly over the sub-categories, reproducible by ``seed``.

    ``templates="even"`` uses only templates 0, 2, 4…, ``"odd"`` only 1, 3, 5… of each
    sub-category: train on one half and test on the other for an honest held-out score.

    >>> g = next(generate(1, seed=1))
    >>> g.subcategory, g.language
    ('network.no_signal', 'zh')
    """
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    rng = np.random.default_rng(seed)
    bank = ZH if language == "zh" else EN
    subs = [s.code for s in all_subcategories()]
    for i in range(n):
        code = subs[i % len(subs)]
        tpls = list(enumerate(bank[code]))
        if templates == "even":
            tpls = tpls[0::2]
        elif templates == "odd":
            tpls = tpls[1::2]
        k, tpl = tpls[int(rng.integers(len(tpls)))]
        if language == "zh":
            opener = _OPENERS_ZH[int(rng.integers(len(_OPENERS_ZH)))]
            closer = _CLOSERS_ZH[int(rng.integers(len(_CLOSERS_ZH)))]
            text = _noise_zh(_fill(opener + tpl + closer, rng, _FILL_ZH), rng)
        else:
            text = _noise_en(_fill(tpl, rng, _FILL_EN), rng)
        yield GeneratedComplaint(text=text, subcategory=code, language=language, template=k)


def compose(
    subcategory_code: str,
    rng: np.random.Generator,
    language: Literal["zh", "en"] = "zh",
) -> str:
    """One generated complaint text of the given sub-category (for demo data).

    >>> text = compose("billing.refund", np.random.default_rng(0))
    >>> isinstance(text, str) and len(text) > 5
    True
    """
    bank = ZH if language == "zh" else EN
    tpls = bank[subcategory_code]
    tpl = tpls[int(rng.integers(len(tpls)))]
    if language == "zh":
        opener = _OPENERS_ZH[int(rng.integers(len(_OPENERS_ZH)))]
        closer = _CLOSERS_ZH[int(rng.integers(len(_CLOSERS_ZH)))]
        return _noise_zh(_fill(opener + tpl + closer, rng, _FILL_ZH), rng)
    return _noise_en(_fill(tpl, rng, _FILL_EN), rng)
