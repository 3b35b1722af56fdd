"""Noise schedules (forward process) and the samplers that run the reverse process with them."""
from .noise_schedule import NoiseSchedule, ScheduleConfig, make_betas
from .samplers import DDIMSampler, DDPMSampler, classifier_free_guidance, guided_model_fn, make_sampler

__all__ = ["NoiseSchedule", "ScheduleConfig", "make_betas", "DDIMSampler", "DDPMSampler", "classifier_free_guidance",
           "guided_model_fn", "make_sampler"]
