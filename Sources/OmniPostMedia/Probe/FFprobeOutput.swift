/// The subset of `ffprobe -print_format json -show_format -show_streams` we read.
struct FFprobeOutput: Decodable {
    struct Stream: Decodable {
        var codec_type: String?
        var codec_name: String?
        var width: Int?
        var height: Int?
        var pix_fmt: String?
        var profile: String?
        var color_range: String?
        var color_space: String?
        var color_transfer: String?
        var color_primaries: String?
        var channel_layout: String?
        var sample_aspect_ratio: String?
        /// `progressive`, or the field order of interlaced video (`tt`, `bb`, `tb`, `bt`); absent when unknown.
        var field_order: String?
        var avg_frame_rate: String?
        var r_frame_rate: String?
        var sample_rate: String?
        var channels: Int?
        var bit_rate: String?
        var tags: [String: String]?
        var side_data_list: [SideData]?
        var disposition: [String: Int]?
    }
    struct SideData: Decodable {
        var side_data_type: String?
        var rotation: Double?
        /// Dolby Vision configuration record (phones write profile 8 with an HDR10 or HLG base layer).
        var dv_profile: Int?
        var dv_bl_signal_compatibility_id: Int?
    }
    struct Format: Decodable {
        var format_name: String?
        var duration: String?
        var size: String?
        var bit_rate: String?
    }
    var streams: [Stream]?
    var format: Format?
}
