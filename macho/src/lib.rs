//! Mach-O reading, editing and signing (filled by the Mach-O work).
