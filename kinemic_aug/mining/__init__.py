"""Mining in context: the MIC encoder, its contrastive loss and window mining."""
from .contrastive import ContrastiveHead, MemoryBank, multi_positive_infonce
from .mic import MICConfig, MICEncoder
from .windows import best_window_starts, extract_windows

__all__ = ["MICConfig", "MICEncoder", "ContrastiveHead", "MemoryBank", "multi_positive_infonce",
           "best_window_starts", "extract_windows"]
