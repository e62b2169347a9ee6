//! Files users upload (KYC documents): the kinds barongd recognises by their first bytes.

/// Extensions whose content can be recognised, the only ones `upload_extension_whitelist` may name.
pub const KNOWN_EXTENSIONS: [&str; 9] = ["jpg", "jpeg", "png", "pdf", "gif", "webp", "tif", "tiff", "bmp"];

/// A kind of file we can recognise by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Pdf,
    Gif,
    Webp,
    Tiff,
    Bmp,
}

impl FileKind {
    pub fn of_extension(ext: &str) -> Option<FileKind> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => FileKind::Jpeg,
            "png" => FileKind::Png,
            "pdf" => FileKind::Pdf,
            "gif" => FileKind::Gif,
            "webp" => FileKind::Webp,
            "tif" | "tiff" => FileKind::Tiff,
            "bmp" => FileKind::Bmp,
            _ => return None,
        })
    }

    /// Whether `bytes` start the way this kind of file must.
    pub fn matches(self, b: &[u8]) -> bool {
        match self {
            FileKind::Jpeg => b.starts_with(&[0xFF, 0xD8, 0xFF]),
            FileKind::Png => b.starts_with(b"\x89PNG\r\n\x1a\n"),
            FileKind::Pdf => b.starts_with(b"%PDF-"),
            FileKind::Gif => b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
            FileKind::Webp => b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP",
            FileKind::Tiff => b.starts_with(b"II*\0") || b.starts_with(b"MM\0*"),
            FileKind::Bmp => b.starts_with(b"BM"),
        }
    }

    /// The `Content-Type` a stored file of this kind is served with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Pdf => "application/pdf",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Tiff => "image/tiff",
            FileKind::Bmp => "image/bmp",
        }
    }
}
