"""Every public name of the package's modules before they were split by concern is still importable from the module
that held it (the splits re-export what moved), so that users' imports keep working."""
import importlib
import pytest

PUBLIC = {
    'augment': ['GPUAugment', 'MultiView', 'PointCloudAug', 'ShiftAugment', 'make_augment', 'make_transform', 'supcon_transform'],
    'checkpoint': ['CheckpointError', 'EVAL_FILES', 'LOCK_FILE', 'MANIFEST', 'RUN_FILES', 'RunLockedError', 'TOOLS', 'atomic_write_bytes', 'check_out', 'clean_run_folder', 'get_rng_state', 'latest_checkpoint', 'list_checkpoints', 'load_checkpoint', 'lock_run', 'prepare_out', 'prune_checkpoints', 'read_manifest', 'record_files', 'remove_recorded', 'run_lock', 'save_checkpoint', 'seed_everything', 'set_rng_state', 'unlock_run'],
    'cli': ['TensorBoardLog', 'add_config_options', 'auto_threads', 'compare_main', 'compare_table', 'config_from_args', 'fit_to_data', 'load_config_file', 'main', 'measure_masks', 'run_training', 'train_main'],
    'config': ['ConfigError', 'DATASETS', 'FASHION_MNIST_DEB', 'FASHION_MNIST_ROOT', 'MASKED_METHODS', 'MAX_SEED', 'METHODS', 'METHOD_REGISTRY', 'MethodSpec', 'PRESETS', 'RESUME_MAY_CHANGE', 'TrainConfig', 'check_config', 'check_types', 'get_config', 'level_weights_for', 'parse_levels', 'register_method', 'unread_options'],
    'data': ['CIFAR100Hierarchical', 'ChecksumError', 'FASHION_FILES', 'FASHION_ITEMS', 'FASHION_LEVELS', 'FASHION_RAW_MD5', 'FASHION_TREE', 'FEATURE_NOISE', 'FashionMNISTHierarchical', 'FileImages', 'HierarchicalDigits', 'HierarchicalImageFolder', 'HierarchicalMNIST', 'IMG_EXTENSIONS', 'InMemoryDataset', 'MAX_IN_MEMORY', 'MISSING_MARKERS', 'MODELNET40_COARSE', 'ModelNet40', 'OWN_SOURCES', 'SPLITS', 'SPLIT_WORDS', 'SplitDataset', 'compose_hierarchical', 'data_defaults', 'digits_hierarchy', 'extract_verified', 'fashion_hierarchy', 'fashion_mnist_files', 'fetch_verified', 'folder_samples', 'is_tensor_dataset', 'load_images', 'make_datasets', 'own_datasets', 'plan_composition', 'prepare_mnist', 'read_arrays', 'read_csv', 'read_folder', 'read_source', 'read_verified_idx', 'scan_images', 'select_levels', 'val_split'],
    'distributed': ['GatheredLoss', 'all_gather_grad', 'all_gather_nograd', 'cleanup_distributed', 'epoch_permutation', 'get_rank', 'get_world_size', 'is_dist', 'is_main', 'reduce_mean', 'resolve_device', 'setup_distributed'],
    'evaluate': ['check_eval_args', 'cpcc', 'default_columns', 'embedding_variance', 'evaluate_features', 'evaluate_model', 'extract_features', 'flatten_results', 'format_table', 'hier_dist_at_k', 'knn_eval', 'linear_eval', 'mask_health', 'mask_trajectory', 'masks_figure', 'masks_for', 'mistake_severity', 'paired_differences', 'seed_bars_figure', 'selectivity', 'silhouette_per_level', 'tsne_figure'],
    'hierarchy': ['Hierarchy', 'folder_leaves', 'prefix_ids', 'tree_distance'],
    'imbalance': ['BCLMethod', 'ImbalancedSplit', 'apply_imbalance', 'balanced_masked_loss', 'bcl_loss', 'coarse_leaves', 'counts_figure', 'long_tail_counts', 'long_tail_indices', 'parse_sizes', 'relabel_paths', 'shot_metrics', 'split_counts'],
    'levels': ['DPGHMLCLoss', 'LevelReport', 'LossOnZ', 'TorchDPGMM', 'discover_levels', 'dp_level_masks'],
    'losses': ['cpcc_loss', 'hmlc_loss', 'positive_mask', 'supcon_loss', 'with_instance_ids'],
    'masking': ['AHMLCLoss', 'GHMLCLoss', 'MASK_MODES', 'TorchGMM', 'level_increments', 'level_masks', 'level_relevance', 'sample_masks'],
    'models': ['BasicBlock', 'Bottleneck', 'CifarResNet', 'ContrastiveModel', 'ENCODERS', 'MLPEncoder', 'PointNet', 'ProjectionHead', 'SmallCNN', 'cifar_resnet18', 'cifar_resnet50', 'create_model'],
    'study': ['CONTROLS', 'NAMES', 'control_targets', 'feature_id_targets', 'load_runs', 'results_table', 'show_figure', 'targets_md'],
    'train': ['MethodLoss', 'NonFiniteLossError', 'Trainer', 'TrainingInterrupted', 'check_setup', 'lr_factor', 'make_criterion', 'make_optimizer', 'make_scheduler', 'train'],
}

@pytest.mark.parametrize('module', sorted(PUBLIC))
def test_public_names_still_importable(module):
    mod = importlib.import_module(f'hmlc_nb.{module}')
    missing = [n for n in PUBLIC[module] if not hasattr(mod, n)]
    assert not missing, f"hmlc_nb.{module} no longer provides {missing}"
