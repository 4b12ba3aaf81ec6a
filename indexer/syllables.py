"""Word lists the normalizer's syllable grammar and space repair read; data only, no text is changed here.

`indexer.normalize` stays the one module that changes text: it imports these sets and applies them.
"""
from __future__ import annotations

# Every written rhyme (medial + vowel + coda), without tone.
RHYMES = frozenset("""
a ac ach ai am an ang anh ao ap at au ay ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây
e ec em en eng eo ep et ê êch êm ên ênh êp êt êu i ia ich im in inh ip it iu
iêc iêm iên iêng iêp iêt iêu o oc oi om on ong op ot ooc oong ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt u ua uc ui um un ung up ut uôc uôi uôm uôn uông uôt
ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu y yêm yên yêng yêt yêu
oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt oe oen oeo oet
uân uâng uât uây uê uêch uênh uơ uy uya uych uyên uyêt uynh uyt uyu""".split())
# After "qu" the u is the medial: quả, quân, quyết, quý, quốc.
QU_RHYMES = frozenset("""a ac ach ai an ang anh ao at ay ăc ăm ăn ăng ăt ân âng ât ây e en eo et
ê ên ênh êt êch i inh it ich y ynh yt yên yêt yu ơ ôc""".split())
# The 1,500 most frequent syllables of the Bộ Pháp điển legal corpus (99.6% of its running
# syllables), single ASCII letters other than "y" left out. Splitting a glued token prefers
# common syllables ("cường ứng", not "cườn gứng"), and an ASCII piece must be one of them, so
# loanwords stay whole ("calo", "vitamin", "yoga").
COMMON = frozenset("""
    an anh ba ban bao bay bia binh biên biến biết biển biểu biện biệt bom boong buôn buồng buổi buộc bà bài bàn bào
    bày bá bác bách bán bánh báo bãi bão bên bì bìa bình bí bóc bón bóng bông bù bút băng bơm bưu bước bạ bạc bạch
    bạo bản bảng bảo bảy bất bầu bậc bắc bắn bắt bằng bến bề bền bể bệnh bị bỏ bố bốc bốn bồi bổ bổng bộ bội bột bờ
    bởi bức ca cai cam can canh cao cha chai che chi chia chiếc chiếm chiến chiết chiếu chiều chiểu cho chu chung
    chuyên chuyến chuyền chuyển chuẩn chuỗi chào chánh cháy chân châu chéo chép chênh chì chìa chìm chí chín chính
    chó chóng chôn chú chúc chúng chăm chăn chơi chưa chương chướng chạy chảy chấm chấp chất chẩn chậm chắc chắn
    chặn chặt chẽ chế chết chỉ chỉnh chị chịu chọn chối chống chốt chồng chỗ chờ chở chợ chụp chủ chủng chứa chức
    chứng chữ chữa coi con cong cung cuối cuộc cà cài cá các cách cái cán cánh cáo cát cân câu cây còn có cô côn
    công cùng cúc căn cũ cũng cơ cư cương cước cường cưỡng cược cạn cạnh cả cải cảm cản cảng cảnh cấm cấp cất cấu
    cầm cần cầu cận cập cậy cắm cắt cặp cố cống cốt cồn cổ cổng cộng cột cờ cỡ cụ cục cụm của củng cứ cứng cứu cử
    cửa cực cựu da danh dao de di dinh diễn diện diệt do doanh doi don du dung duy duyệt dài dành dày dán dáng dâm
    dân dâng dây dã dò dòng dõi dùng dư dương dưới dưỡng dược dạng dạy dải dấu dầu dẫn dập dễ dệt dịch dọa dọc dọn
    dỡ dụ dục dụng dứt dừng dữ dự dựa dựng em ga ghi ghép ghế gia giai giam gian giao giay giàn giá giác giám gián
    giáng giáo giáp gió giúp giả giải giảm giản giảng giấu giấy giếng giết giỏi giống giới giờ giữ giữa gom gà gác
    gây gìn góc gói góp gạch gạo gần gắn gặp gọi gọn gốc gồm gỗ gửi ha hai hanh hao hay hiếm hiến hiểm hiểu hiện
    hiệp hiệu hoa hoang hoà hoàn hoá hoán hoãn hoạch hoại hoạn hoạt hoặc huy huyện huấn huống huỷ hy hà hài hàm hàn
    hàng hành hãng hè hình hòa hóa hôn hùng hút hơi hơn hư hưu hương hướng hưởng hạ hạch hại hạn hạng hạnh hạt hải
    hầm hậu hằng hết hệ họ họa học họp hỏa hỏi hỏng hối hồ hồi hồng hỗ hỗn hộ hội hộp hợp hụt hủy hữu in kem khai
    khen khi khiếu khiển kho khoa khoan khoang khoanh khoá khoán khoáng khoản khoảng khoẻ khu khung khuyến khuyết
    khuôn khuẩn khác khách khám kháng khánh khâu khí khích khó khóa khô khôi không khăn khả khảo khấu khẩn khẩu khắc
    khỏe khỏi khối khống khổ khớp khởi khủng khử kia kim kinh kiêm kiên kiếm kiến kiểm kiểu kiệm kiện ky kèm kéo kê
    kênh kích kín kính ký kế kết kề kể kịch kịp kỳ kỷ kỹ la lai lan lang lao linh liên liền liều liệt liệu loài loại
    loạn luyện luân luận luật luồng ly là làm làng lành lào lá lái lâm lân lâu lây lãi lãm lãng lãnh lên lò lòng lô
    lông lúa lúc lý lăm lăn lĩnh lũ lũy lưu lương lưới lường lược lượng lượt lạc lại lạnh lấp lấy lần lẫn lận lập
    lậu lắp lẻ lễ lệ lệch lệnh lịch lọc lỏng lối lồng lỗ lỗi lộ lớn lớp lời lở lợi lục lụt lửa lữ lựa lực ma mai
    mang mau may mi minh miếng miền miễn mua muối muốn mà màu mác mát máu máy mây mã mép mét mìn mình mòn móc mô môi
    môn mù mùa múa măng mũ mưa mưu mươi mười mượn mạc mạch mại mạn mạng mạnh mạo mảnh mất mầm mẫu mật mắc mắt mặc
    mặn mặt mẹ mềm mệnh mọi mỏ mốc mối mổ mỗi một mới mời mở mục mức mực mỹ nam nay neo ngang ngay nghe nghi nghiêm
    nghiên nghiêng nghiệm nghiện nghiệp nghèo nghĩa nghề nghệ nghỉ nghị ngoài ngoại nguy nguyên nguyễn nguyện nguồn
    ngành ngày ngân ngôn ngăn ngũ ngư người ngưỡng ngược ngạch ngại ngầm ngập ngắn ngồi ngờ ngừa ngừng ngữ ngựa nhan
    nhanh nhau nhiên nhiều nhiễm nhiễu nhiệm nhiệt nhu nhuận nhà nhàn nhánh nhân nhãn nhìn nhóm nhũng như nhưng
    nhượng nhạc nhất nhầm nhận nhập nhật nhắn nhằm nhẹ nhỏ những nhựa ninh niêm niên niệm non nuôi nào này nâng nã
    nét nêu nói nóng nông núi năm năng nơi nước nại nạn nạo nạp nắm nắp nằm nặng nếu nền nối nồng nổ nổi nội nộp nợ
    nửa nữ pha phao phi phim phiên phiếu phiện phong phu phá phái phán pháo pháp phát phân phép phê phí phía phòng
    phó phóng phôi phù phúc phút phơi phương phường phạm phạt phải phản phần phẩm phẫu phận phẳng phế phỏng phố phối
    phổ phụ phục phủ phức qua quan quang quanh quay qui quy quyết quyền quà quá quán quân quét quý quả quản quảng
    quần quận quốc quỹ ra ranh riêng ro ruột rà ràng rào rác rách ráp rãi rèn rõ rút rơi rượu rất rắn rằng rối rộng
    rời rủi rừng rửa sai san sang sao sau sinh siêu so song soát soạn su sua sung suy suất suốt sàn sàng sách sáng
    sánh sáp sát sáu sân sâu séc sét sóc sóng sót sông súc súng sĩ sơ sơn sư sạch sạt sản sắc sắm sắp sắt sẵn sẻ sẽ
    số sống sổ sớm sở sợi sức sử sửa sữa sự sỹ tai tang tay tem ten tha thai tham than thang thanh thao thay the
    theo thi thiên thiết thiếu thiểu thiện thiệp thiệt thiệu thong thoái thoát thoại thoả thu thuyết thuyền thuê
    thuần thuận thuật thuế thuốc thuộc thuỷ thành thác thách thái thám tháng tháo thâm thân thép thêm thì thí thích
    thô thôi thôn thông thù thùng thú thúc thăm thăng thư thương thước thường thưởng thượng thạc thả thải thảm thảo
    thấp thất thấy thần thầu thẩm thập thật thẳng thẻ thế thể thỉnh thị thịt thọ thỏa thống thổ thời thợ thụ thục
    thủ thủy thứ thức thừa thử thực tia tin tinh tiêm tiên tiêu tiến tiếng tiếp tiết tiềm tiền tiểu tiễn tiện toa
    toà toàn toán tra trang tranh trao tre treo tri trinh triều triển triệu trong trung truy truyền tràn trào trách
    trái tráng tránh trên trì trình trí trích trò tròn trù trùng trú trúc trúng trăm trưng trương trước trường
    trưởng trại trạm trạng trả trải trấn trần trận trật trắc trắng trẻ trị trọng trọt trốn trống trồng trộn trời trở
    trợ trụ trục trừ trữ trực tu tuyên tuyến tuyển tuyệt tuân tuý tuần tuệ tuổi tuỳ ty tài tàng tàu tá tác tách tái
    tán táng tâm tân tây tên tìm tình tích tín tính tòa tóm tô tôn tù tùng tùy túc túi túy tăng tĩnh tư tươi tương
    tước tưới tướng tường tưởng tượng tại tạm tạo tạp tả tải tấm tấn tất tầm tần tầng tẩy tận tập tật tắc tắt tặng
    tế tết tệ tỉnh tịch tọa tỏa tố tốc tối tống tốt tồn tổ tổn tổng tộc tội tới tờ tụ tục tụng tủ tức từ từng tử tự
    tỷ uy uống uỷ va vai van vay ve ven vi viên viết viền viễn việc viện việt vui vuông và vàng vào vân vé vét vì ví
    vòng vô võ vùng văn vũ vướng vườn vượt vạch vải vấn vẫn vận vật vắc vắng vẹn vẽ vết về vệ vị vọng vỏ vốn với vớt
    vợ vụ vừa vững vực xa xanh xay xe xem xi xin xong xung xuyên xuất xuống xá xác xâm xây xã xét xì xóa xúc xăng xơ
    xưởng xạ xả xảy xấu xếp xổ xứ xử y yêu yết yếu án ánh áo áp âm ép ích ít ô ông úy ý ăn đa đai đang đau đe đen
    đeo đi điếu điền điều điểm điển điện điệp đo đoàn đoán đoạn đoạt đua đun đà đài đàm đàn đào đá đáng đánh đáo đáp
    đáy đây đã đãi đèn đê đêm đình đích đính đòi đó đón đóng đô đôi đôn đông đúng đăng đĩa đơn đưa đương đường được
    đạc đại đạo đạt đảm đảng đảo đất đấu đầu đầy đẩy đậm đập đậu đắm đắp đẳng đặc đặt đẻ đến đề đền đều để đệm địa
    địch định đọc đỏ đốc đối đồ đồn đồng đổ đổi đỗ độ độc đội động đột đới đời đỡ đợt đủ đức đứng đựng ưu ươm ương
    ước ảnh ấn ẩm ẩn ốm ống ổ ổn ở ủy ứng
""".split())
# Loanwords written solid whose syllables are all common: splitting them would be wrong.
LOANWORDS = frozenset("côca côcain hêrôin contenơ magiê garô bécgiê kilôgam kilômét".split())
