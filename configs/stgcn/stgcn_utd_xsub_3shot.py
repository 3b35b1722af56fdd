# ST-GCN (small) on UTD-MHAD cross-subject with 3 training sequence(s) per class, drawn from xsub_train only
# (kinemic_aug.data.fewshot). The draw's seed follows the run seed (tools/train.py --seed), so seeds vary both the
# shots and the training. Same step budget as full data. The draw checks that no subject is shared with xsub_test.
# Every class has 15-16 training sequences, so no class gives fewer than 3 (allow_fewer stays off).
_base_ = ['./stgcn_utd_xsub_full.py']
train_dataloader = dict(dataset=dict(few_shot=dict(shots=3, seed=0, test_split='xsub_test', subject_key='subject')))
