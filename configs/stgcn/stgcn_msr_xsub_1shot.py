# ST-GCN (small) on MSR Action3D cross-subject with 1 training sequence(s) per class, drawn from
# xsub_train only (kinemic_aug.data.fewshot). The draw's seed follows the run seed (tools/train.py --seed),
# so seeds vary both the shots and the training. Same step budget as full data. The draw checks that no
# subject is shared with xsub_test; allow_fewer: "side kick" has only 9 training sequences (10-shot = 9 there).
_base_ = ['./stgcn_msr_xsub_full.py']
train_dataloader = dict(dataset=dict(few_shot=dict(shots=1, seed=0, test_split='xsub_test', subject_key='subject',
                                                  allow_fewer=True)))
